from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "mutualis.vault"
    label = "vault"
    verbose_name = "Coffre de clés"

    def ready(self) -> None:
        from mutualis.vault import checks  # noqa: F401  (registers the system checks)
