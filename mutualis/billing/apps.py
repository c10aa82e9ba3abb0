from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "mutualis.billing"
    label = "billing"
    verbose_name = "Cotisations"
