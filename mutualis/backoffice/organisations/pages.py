"""Recipient organisations and their API keys, for the security and accessibility suites."""

from mutualis.lib.pages import cover


def _pharmacy(purpose: str = "pharmacy"):
    def kwargs(world) -> dict:
        from mutualis.tests_security.world import pharmacy

        return {"organisation_id": pharmacy(world, purpose).pk}

    return kwargs


def _key(purpose: str):
    def kwargs(world) -> dict:
        from mutualis.tests_security.world import credential

        key = credential(world, purpose)
        return {"organisation_id": key.organisation_id, "credential_id": key.pk}

    return kwargs


for name in ("organisation_list", "organisation_create"):
    cover(f"backoffice:{name}")
for name in ("organisation_detail", "organisation_edit", "key_create"):
    cover(f"backoffice:{name}", kwargs=_pharmacy())
# Suspending a pharmacy stops its keys: one of its own, so the other acts find theirs valid.
cover("backoffice:organisation_activation", kwargs=_pharmacy("to_suspend"))
cover("backoffice:key_rotate", kwargs=_key("à renouveler"))
cover("backoffice:key_revoke", kwargs=_key("à révoquer"))
