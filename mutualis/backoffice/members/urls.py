"""Member search, the member record, the audited NIR / IBAN reveals, and who a contract covers."""

from django.urls import path

from mutualis.backoffice.members import reveal, views

urlpatterns = [
    path("adherents/", views.member_search, name="member_search"),
    path("adherents/<uuid:member_id>/", views.member_detail, name="member_detail"),
    path(
        "adherents/<uuid:member_id>/personnes/<uuid:person_id>/nir/",
        reveal.reveal_nir,
        name="reveal_nir",
    ),
    path(
        "adherents/<uuid:member_id>/mandats/<uuid:mandate_id>/iban/",
        reveal.reveal_iban,
        name="reveal_iban",
    ),
    path(
        "adherents/<uuid:member_id>/contrats/<uuid:contract_id>/beneficiaires/ajouter/",
        views.contract_beneficiary_add,
        name="contract_beneficiary_add",
    ),
    path(
        "adherents/<uuid:member_id>/contrats/<uuid:contract_id>/beneficiaires/"
        "<uuid:beneficiary_id>/retirer/",
        views.contract_beneficiary_remove,
        name="contract_beneficiary_remove",
    ),
]
