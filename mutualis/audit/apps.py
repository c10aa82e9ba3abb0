from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "mutualis.audit"
    label = "audit"
    verbose_name = "Journal d'audit"

    def ready(self) -> None:
        from mutualis.audit import checks  # noqa: F401  (registers the system checks)
