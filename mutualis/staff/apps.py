from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "mutualis.staff"
    label = "staff"
    verbose_name = "Administration des comptes des personnels"
