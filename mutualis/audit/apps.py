from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "mutualis.audit"
    label = "audit"
    verbose_name = "Journal d'audit"
