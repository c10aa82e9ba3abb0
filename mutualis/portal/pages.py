"""The member space's pages for the security and accessibility suites (``mutualis.lib.pages``):
each URL and how to build, for one member, the objects it names."""

from mutualis.lib.pages import cover


def _inquiry(member, world):
    from mutualis.contact.testing import member_inquiry

    return world.get(("inquiry", member.pk), lambda w: member_inquiry(member))


def _access_request(member, world):
    from mutualis.rights.testing import access_request

    return world.get(("access_request", member.pk), lambda w: access_request(member))


def _directive(member, world):
    from mutualis.rights.testing import directive

    return world.get(("directive", member.pk), lambda w: directive(member))


def _consent(member, world):
    from mutualis.tests_security.world import consent_event

    return consent_event(world, member)


# A link's arguments that look like a real one but open nothing: the page says the link is void.
_VOID_LINK = {"uidb64": "MTIz", "token": "cb4cfe-0123456789abcdef0123456789abcdef"}

for name in ("login", "password_reset", "password_reset_done", "password_reset_complete"):
    cover(f"portal:{name}", public=True)
# Logging out needs no session: without one it only leads to the login page.
cover("portal:logout", public=True, status=405)
cover("portal:activate", public=True, kwargs=lambda w: _VOID_LINK)
cover("portal:password_reset_confirm", public=True, kwargs=lambda w: _VOID_LINK)

for name in (
    "dashboard",
    "my_data",
    "contact_details",
    "bank",
    "bank_done",
    "messages",
    "message_new",
    "rights",
    "rights_access",
    "rights_portability",
    "rights_rectification",
    "rights_erasure",
    "rights_objection",
    "rights_marketing_objection",
    "rights_consent_withdrawal",
    "rights_restriction",
    "rights_post_mortem",
    "preferences",
    "preferences_object",
):
    cover(f"portal:{name}")

cover("portal:contract", owned=lambda member, w: {"pk": member.contracts.get().pk})
cover("portal:message_thread", owned=lambda member, w: {"pk": _inquiry(member, w).pk})
cover("portal:rights_request", owned=lambda member, w: {"pk": _access_request(member, w).pk})
cover(
    "portal:rights_download",
    owned=lambda member, w: {"pk": _access_request(member, w).pk},
    download="the member's own copy (GDPR art. 15), to the member logged in: not a staff export",
)
cover("portal:rights_revoke_directive", owned=lambda member, w: {"pk": _directive(member, w).pk})
cover("portal:terms")
# A POST only (GET answers 405): it marks the policy notice read and goes back.
cover("portal:policy_seen", status=405)
cover("portal:consent_receipt", owned=lambda member, w: {"event_id": _consent(member, w).pk})
cover(
    "portal:consent_receipt_json",
    owned=lambda member, w: {"event_id": _consent(member, w).pk},
    download="the member's own consent receipt, to the member logged in: not a staff export",
)


def _payment(member, world):
    """A cheque received from the member this year: a payment certificate can be issued."""

    def build(w):
        from decimal import Decimal

        from django.utils import timezone

        from mutualis.billing import dunning
        from mutualis.billing.models import LedgerKind

        return dunning.record_payment(
            member=member,
            kind=LedgerKind.CHEQUE,
            amount=Decimal("10.00"),
            paid_on=timezone.localdate(),
            reference="CHQ-1",
            actor=None,
        )

    return world.get(("payment", member.pk), build)


def _letter(member, world):
    """The formal notice of an unpaid premium of the member's (C. mutualité L221-7)."""
    from mutualis.billing.testing import suite_history

    return world.get(("billing", member.pk), lambda w: suite_history(member))["letter"]


cover("portal:premiums")
cover(
    "portal:premiums_certificate",
    # No object in the URL: the member's own certificate, of their own payments.
    setup=lambda client, w: _payment(w.alice, w),
    download="the member's own payment certificate, to the member logged in: not a staff export",
)
cover("portal:premiums_letter", owned=lambda member, w: {"pk": _letter(member, w).pk})
