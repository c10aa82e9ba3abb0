"""The member space (espace adhérent), mounted at /espace/.

Every page holds private data or leads to it: each view is wrapped in ``never_cache``
(``Cache-Control: no-store``) here, so a new page cannot forget it.
"""

from django.urls import path
from django.views.decorators.cache import never_cache

from mutualis.portal import urls_consent, urls_contact, urls_premiums, urls_rights
from mutualis.portal.views import auth, bank, contact, dashboard, my_data, password, terms

app_name = "portal"


def _private(view_class, **initkwargs):
    return never_cache(view_class.as_view(**initkwargs))


urlpatterns = [
    path("", _private(dashboard.DashboardView), name="dashboard"),
    path("connexion/", _private(auth.LoginView), name="login"),
    path("deconnexion/", _private(auth.LogoutView), name="logout"),
    path(
        "activer/<uidb64>/<token>/",
        _private(password.ActivateAccountView),
        name="activate",
    ),
    path("mot-de-passe/", _private(password.PasswordResetView), name="password_reset"),
    path(
        "mot-de-passe/envoye/",
        _private(password.PasswordResetDoneView),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe/termine/",
        _private(password.PasswordResetCompleteView),
        name="password_reset_complete",
    ),
    path(
        "mot-de-passe/<uidb64>/<token>/",
        _private(password.PasswordResetConfirmView),
        name="password_reset_confirm",
    ),
    path("contrats/<uuid:pk>/", _private(dashboard.ContractDetailView), name="contract"),
    path("mes-donnees/", _private(my_data.MyDataView), name="my_data"),
    path("conditions/", _private(terms.TermsView), name="terms"),
    path("confidentialite/lue/", _private(terms.PolicySeenView), name="policy_seen"),
    path("coordonnees/", _private(contact.ContactDetailsView), name="contact_details"),
    path("compte-bancaire/", _private(bank.BankAccountView), name="bank"),
    path(
        "compte-bancaire/confirmation/",
        _private(bank.BankAccountDoneView),
        name="bank_done",
    ),
]
urlpatterns += urls_contact.urlpatterns + urls_rights.urlpatterns
urlpatterns += urls_consent.urlpatterns + urls_premiums.urlpatterns
