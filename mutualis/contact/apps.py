from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "mutualis.contact"
    label = "contact"
    verbose_name = "Relation adhérent et réclamations"
