"""Inquiries and complaints, for the security and accessibility suites."""

from mutualis.lib.pages import cover


def _inquiry(world):
    from mutualis.contact.testing import member_inquiry

    return world.get(("inquiry", world.alice.pk), lambda w: member_inquiry(w.alice))


def _complaint(world):
    from mutualis.contact.testing import member_complaint

    return world.get("complaint", lambda w: member_complaint(w.alice))


# An inquiry is its service's (relation adhérent for a member's question; réclamations and the
# DPO see every one): the other services' staff get 404, as for any record they cannot see.
_SCOPE = "an inquiry belongs to the service it is assigned to; other services get 404"


def _inquiry_id(world) -> dict:
    return {"inquiry_id": _inquiry(world).pk}


for name in ("inquiry_queue", "inquiry_register", "complaint_queue"):
    cover(f"backoffice:{name}")
for name in (
    "inquiry_detail",
    "inquiry_answer",
    "inquiry_status",
    "inquiry_assign",
    "inquiry_qualify",
):
    cover(f"backoffice:{name}", kwargs=_inquiry_id, row_scope=_SCOPE)
cover(
    "backoffice:attachment_download",
    kwargs=lambda w: {
        "inquiry_id": _inquiry(w).pk,
        "attachment_id": _inquiry(w).messages.get().attachments.get().pk,
    },
    download="one document of the inquiry being read, its reading audited: not an export",
    row_scope=_SCOPE,
)
for name in ("complaint_acknowledge", "complaint_close"):
    cover(
        f"backoffice:{name}",
        kwargs=lambda w: {"inquiry_id": _complaint(w).inquiry_id},
        row_scope=_SCOPE,
    )
