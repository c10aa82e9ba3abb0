from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "mutualis.contracts"
    label = "contracts"
    verbose_name = "Contrats"
