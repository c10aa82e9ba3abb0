from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "mutualis.vault"
    label = "vault"
    verbose_name = "Coffre de clés"
