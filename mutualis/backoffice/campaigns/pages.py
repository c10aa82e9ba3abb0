"""Campaigns and consent notices, for the security and accessibility suites."""

from mutualis.lib.pages import cover


def _campaign(state: str):
    def kwargs(world) -> dict:
        from mutualis.tests_security.world import campaign

        return {"campaign_id": campaign(world, state).pk}

    return kwargs


def _letter_consent(world) -> dict:
    from mutualis.tests_security.world import letter_consent

    return {"event_id": letter_consent(world).pk}


for name in ("campaign_list", "campaign_create", "notice_list"):
    cover(f"backoffice:{name}")
# Each act on a campaign of its own, in the state it applies to: a draft is edited, sent or
# cancelled; a sending one is paused, a paused one resumed; a postal one is handed to the
# printer, whose files are then downloaded (exports: they ask for a recent re-authentication).
cover("backoffice:campaign_edit", kwargs=_campaign("draft"))
cover("backoffice:campaign_send", kwargs=_campaign("to_send"))
cover("backoffice:campaign_cancel", kwargs=_campaign("to_cancel"))
for name in ("campaign_detail", "campaign_log"):
    cover(f"backoffice:{name}", kwargs=_campaign("sending"))
cover("backoffice:campaign_pause", kwargs=_campaign("to_pause"))
cover("backoffice:campaign_resume", kwargs=_campaign("paused"))
cover("backoffice:campaign_printer", kwargs=_campaign("post_sending"))
for name in ("campaign_printer_csv", "campaign_printer_pdf"):
    cover(f"backoffice:{name}", kwargs=_campaign("post_handed"))
cover("backoffice:record_choice", kwargs=lambda w: {"member_id": w.alice.pk})
cover(
    "backoffice:choice_document",
    kwargs=_letter_consent,
    download="the letter one recorded choice rests on, its reading audited: not an export",
)
