from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "mutualis.billing"
    label = "billing"
    verbose_name = "Cotisations"

    def ready(self) -> None:
        from mutualis.billing import dunning, prenotify
        from mutualis.contracts import cover
        from mutualis.members.signals import contact_details_changed

        # Unpaid premiums suspend a contract's cover (C. mutualité L221-7), wherever it is read.
        cover.register_suspension(dunning.cover_suspended)
        # A corrected e-mail address takes back the notices refused at the former one.
        contact_details_changed.connect(prenotify.address_corrected, dispatch_uid="prenotify")
