from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "mutualis.web"
    label = "web"
    verbose_name = "Site public"
