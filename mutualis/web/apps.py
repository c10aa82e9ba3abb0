from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "mutualis.web"
    label = "web"
    verbose_name = "Site public"

    def ready(self) -> None:
        from django.urls import reverse

        from mutualis.lib import links
        from mutualis.web import checks  # noqa: F401  (registers the production checks)

        # The entry points domain code points to (the terms of use link the policy and cookies).
        links.declare(links.POLICY, lambda: reverse("web:policy"))
        links.declare(links.COOKIES, lambda: reverse("web:cookies"))
