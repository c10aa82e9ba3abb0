from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "mutualis.rights"
    label = "rights"
    verbose_name = "Exercice des droits"

    def ready(self) -> None:
        from mutualis.rights.forget import forget_replayed
        from mutualis.vault.signals import erasure_replayed

        erasure_replayed.connect(forget_replayed, dispatch_uid="rights.forget_replayed")
