"""Demo data: campaigns of the communication service (idempotent).

Runs last (``manage.py demo`` follows INSTALLED_APPS order), after the members and their
choices (``contracts.demo``, ``consent.demo``): a newsletter already sent by e-mail, with its
send log (through a mail backend that keeps nothing: the demo prints no message), a postal
newsletter whose audience is frozen, ready for the printer, and a draft of offers.
"""

from __future__ import annotations

import contextlib
import datetime

from django.core.mail import get_connection
from django.utils import timezone

from mutualis.consent import campaigns, sending
from mutualis.consent.models import Campaign
from mutualis.lib.demo import DemoLogin
from mutualis.web.campaigns.links import campaign_links

SENT = "Lettre d'information — printemps"
POSTAL = "Lettre d'information papier — été"
DRAFT = "Offre bien-être (brouillon)"


def load() -> list[DemoLogin]:
    if Campaign.objects.filter(title__in=[SENT, POSTAL, DRAFT]).exists():
        return []
    sent = campaigns.create_campaign(
        title=SENT,
        kind="newsletter",
        channel="email",
        subject="Les nouvelles de votre mutuelle",
        body="Bonjour {prenom},\n\nCe printemps, vos garanties optique évoluent et nos ateliers "
        "de prévention reprennent près de chez vous.\n\nBien à vous,\nVotre mutuelle",
        actor=None,
    )
    try:
        sent = campaigns.start_sending(campaign=sent, actor=None)
    except campaigns.CampaignError:
        return []  # no member consents yet: the members' demo did not run
    sending.send_campaign(
        campaign=sent,
        links=campaign_links(),
        connection=get_connection("django.core.mail.backends.dummy.EmailBackend"),
        rate=0,
    )
    postal = campaigns.create_campaign(
        title=POSTAL,
        kind="newsletter",
        channel="post",
        subject="Votre lettre d'été",
        body="Bonjour {prenom},\n\nRetrouvez dans cette lettre les dates de nos permanences "
        "d'été.\n\nBien à vous,\nVotre mutuelle",
        actor=None,
    )
    with contextlib.suppress(campaigns.CampaignError):  # nobody chose post yet
        campaigns.start_sending(campaign=postal, actor=None)
    campaigns.create_campaign(
        title=DRAFT,
        kind="offers",
        channel="email",
        subject="Une garantie bien-être pour vous, {prenom}",
        body="Bonjour {civilite} {nom},\n\nDécouvrez notre nouvelle garantie bien-être, dès le "
        f"{(timezone.localdate() + datetime.timedelta(days=30)):%d/%m/%Y}.",
        actor=None,
    )
    return []
