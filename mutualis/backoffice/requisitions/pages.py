"""Authority requisitions, for the security and accessibility suites."""

from mutualis.lib.pages import cover


def _requisition(state: str):
    def kwargs(world) -> dict:
        from mutualis.tests_security.world import requisition

        return {"requisition_id": requisition(world, state).pk}

    return kwargs


def _letter(world) -> dict:
    from mutualis.tests_security.world import authority_letter

    return {"notice_id": authority_letter(world).pk}


for name in ("requisition_list", "requisition_create"):
    cover(f"backoffice:{name}")
# Each act on a requisition of its own, in the state it applies to: a decision on one just
# received, the export of an approved one, the download and the hand-over of an exported
# archive, the end of a secrecy.
cover("backoffice:requisition_detail", kwargs=_requisition("exported"))
cover("backoffice:requisition_decide", kwargs=_requisition("received"))
cover("backoffice:requisition_export", kwargs=_requisition("approved"))
cover("backoffice:requisition_download", kwargs=_requisition("exported"))
cover("backoffice:requisition_deliver", kwargs=_requisition("to_deliver"))
cover("backoffice:requisition_lift_secrecy", kwargs=_requisition("secret"))
cover("backoffice:letter_sent", kwargs=_letter)
