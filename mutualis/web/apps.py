from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "mutualis.web"
    label = "web"
    verbose_name = "Site public"

    def ready(self) -> None:
        from mutualis.web import checks  # noqa: F401  (registers the production checks)
