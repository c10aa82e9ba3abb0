"""Member search, the member record and the audited NIR / IBAN reveals."""

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
]
