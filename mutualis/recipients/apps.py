from django.apps import AppConfig


class RecipientsConfig(AppConfig):
    name = "mutualis.recipients"
    label = "recipients"
    verbose_name = "Destinataires extérieurs"

    def ready(self) -> None:
        # The T6 promise check registers itself with privacy_check.
        from mutualis.recipients import promises  # noqa: F401
