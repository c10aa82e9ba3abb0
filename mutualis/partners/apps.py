from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "mutualis.partners"
    label = "partners"
    verbose_name = "API des destinataires extérieurs"

    def ready(self) -> None:
        from django.urls import reverse

        from mutualis.lib import links

        # An entry point domain code points to (lib/links.py).
        links.declare(links.RIGHTS_CHECK_API, lambda: reverse("partners:check_rights"))
