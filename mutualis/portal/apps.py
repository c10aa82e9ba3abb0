from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "mutualis.portal"
    label = "portal"
    verbose_name = "Espace adhérent"

    def ready(self) -> None:
        from django.urls import reverse

        from mutualis.lib import links

        # An entry point domain code points to (lib/links.py).
        links.declare(links.MEMBER_LOGIN, lambda: reverse("portal:login"))
