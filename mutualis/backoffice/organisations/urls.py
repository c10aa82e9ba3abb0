"""The outside recipients' organisations and their API keys."""

from django.urls import path

from mutualis.backoffice.organisations import views

urlpatterns = [
    path("organismes/", views.organisation_list, name="organisation_list"),
    path("organismes/nouveau/", views.organisation_create, name="organisation_create"),
    path(
        "organismes/<int:organisation_id>/", views.organisation_detail, name="organisation_detail"
    ),
    path(
        "organismes/<int:organisation_id>/modifier/",
        views.organisation_edit,
        name="organisation_edit",
    ),
    path(
        "organismes/<int:organisation_id>/activation/",
        views.organisation_activation,
        name="organisation_activation",
    ),
    path("organismes/<int:organisation_id>/cles/", views.key_create, name="key_create"),
    path(
        "organismes/<int:organisation_id>/cles/<int:credential_id>/renouveler/",
        views.key_rotate,
        name="key_rotate",
    ),
    path(
        "organismes/<int:organisation_id>/cles/<int:credential_id>/revoquer/",
        views.key_revoke,
        name="key_revoke",
    ),
]
