"""The DPO's disclosure register."""

from django.urls import path

from mutualis.backoffice.disclosures import views

urlpatterns = [
    path("communications/", views.disclosure_register, name="disclosure_register"),
    path(
        "communications/registre-des-communications.csv",
        views.disclosure_register_csv,
        name="disclosure_register_csv",
    ),
]
