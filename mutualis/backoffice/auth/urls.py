"""The second factor's pages beyond the login itself: recovery codes, re-authentication, the
invitation link and one's own security page."""

from django.urls import path

from mutualis.backoffice.auth import invitation, reauth, recovery, security

urlpatterns = [
    path("connexion/secours/", recovery.login_recovery, name="login_recovery"),
    path("confirmer/", reauth.reauthenticate, name="reauthenticate"),
    path("invitation/<uidb64>/<token>/", invitation.accept_invitation, name="invitation"),
    path("securite/", security.my_security, name="my_security"),
    path("securite/codes/", security.new_recovery_codes, name="new_recovery_codes"),
]
