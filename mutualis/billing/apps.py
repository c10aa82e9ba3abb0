from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "mutualis.billing"
    label = "billing"
    verbose_name = "Cotisations"

    def ready(self) -> None:
        from mutualis.billing import dunning
        from mutualis.contracts import cover

        # Unpaid premiums suspend a contract's cover (C. mutualité L221-7), wherever it is read.
        cover.register_suspension(dunning.cover_suspended)
