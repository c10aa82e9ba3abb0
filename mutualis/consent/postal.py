"""Campaigns by post: the file for the printer, with only the people it may go to.

Handing a campaign to the printer (:func:`hand_to_printer`) checks each frozen recipient again —
a consent to post withdrawn, an objection, a restriction, a death since the audience was frozen
leaves that person out — then marks the others *handed to the printer* and records, for each,
the disclosure of their name and postal address to the printer, a processor of the mutuelle
(GDPR art. 28 and 30(1)(d); the declaration's ``printer`` recipient). The files are then built
from those rows only: a CSV of the address blocks (sorted by postal code, as mail routing
wants it) and a PDF of the letters, one per page, the address where a window envelope shows it.
Every download is audited.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from fpdf import FPDF

from mutualis import audit
from mutualis.audit.services import record_disclosure
from mutualis.consent import campaigns
from mutualis.consent.models import Campaign, CampaignStatus, Delivery, DeliveryStatus, Topic
from mutualis.consent.models.campaigns import KIND_TOPIC
from mutualis.consent.sending import INELIGIBLE, eligible_people
from mutualis.consent.tags import ConsentTag
from mutualis.members.models import Civility
from mutualis.privacy import catalogue

CSV_COLUMNS = (
    "référence",
    "civilité",
    "nom",
    "prénoms",
    "adresse",
    "complément d'adresse",
    "code postal",
    "commune",
)
_BATCH = 1000


class PostalError(ValueError):
    """A postal export the rules refuse (French message)."""


@dataclass(frozen=True)
class Letter:
    reference: str
    civility: str
    last_name: str
    first_names: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str

    @property
    def address_block(self) -> list[str]:
        name = " ".join(p for p in (self.civility, self.first_names, self.last_name) if p)
        lines = [name, self.address_line1, self.address_line2]
        lines.append(f"{self.postal_code} {self.city}".strip())
        return [line for line in lines if line]


def hand_to_printer(*, campaign: Campaign, actor) -> int:
    """Check, mark and disclose the recipients of a postal campaign (see the module docstring).

    Returns how many letters go to the printer. Done once: the campaign is then sent, and later
    calls change nothing and return 0.
    """
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.channel != "post":
            raise PostalError("Cette campagne part par courriel, pas par courrier.")
        if campaign.status == CampaignStatus.SENT:
            return 0
        if campaign.status != CampaignStatus.SENDING:
            raise PostalError("Lancez d'abord l'envoi de la campagne.")
        now = timezone.now()
        pending = list(
            campaign.deliveries.filter(status=DeliveryStatus.PENDING).values_list("pk", "person_id")
        )
        eligible: set = set()
        for start in range(0, len(pending), _BATCH):
            people = [person for _, person in pending[start : start + _BATCH]]
            eligible |= eligible_people(campaign, people)
        kept = [pk for pk, person in pending if person in eligible]
        Delivery.objects.filter(pk__in=[pk for pk, p in pending if p not in eligible]).update(
            status=DeliveryStatus.SKIPPED, error=INELIGIBLE
        )
        Delivery.objects.filter(pk__in=kept).update(
            status=DeliveryStatus.EXPORTED, sent_at=now, attempts=1
        )
        reason = (
            f"impression et routage de la campagne « {campaign.title} » par courrier "
            "(sous-traitant, RGPD art. 28)"
        )
        for person in sorted(eligible, key=str):
            record_disclosure(
                recipient=catalogue.PRINTER,
                subject=person,
                categories=[catalogue.IDENTITY, catalogue.CONTACT],
                reason=reason,
                actor=actor,
            )
        audit.record(
            ConsentTag.CAMPAIGN_EXPORT,
            actor=actor,
            target=campaign,
            details={"letters": len(kept), "skipped": len(pending) - len(kept)},
        )
    campaigns.finish_if_done(campaign)
    return len(kept)


def letters(campaign: Campaign) -> list[Letter]:
    rows = (
        campaign.deliveries.filter(status=DeliveryStatus.EXPORTED)
        .order_by("person__postal_code", "person__last_name", "id")
        .values_list(
            "pk",
            "person__civility",
            "person__last_name",
            "person__first_names",
            "person__address_line1",
            "person__address_line2",
            "person__postal_code",
            "person__city",
        )
    )
    civilities = dict(Civility.choices)
    return [
        Letter(str(pk)[:8], civilities.get(civ, ""), last, first, line1, line2, code, city)
        for pk, civ, last, first, line1, line2, code, city in rows
    ]


def _record_download(campaign: Campaign, actor, kind: str, count: int) -> None:
    with transaction.atomic():
        audit.record(
            ConsentTag.CAMPAIGN_EXPORT,
            actor=actor,
            target=campaign,
            details={"download": kind, "letters": count},
        )


def _cell(value: str) -> str:
    """A value a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def csv_file(campaign: Campaign, *, actor) -> bytes:
    found = letters(campaign)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for letter in found:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    letter.reference,
                    letter.civility,
                    letter.last_name,
                    letter.first_names,
                    letter.address_line1,
                    letter.address_line2,
                    letter.postal_code,
                    letter.city,
                )
            ]
        )
    _record_download(campaign, actor, "csv", len(found))
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: spreadsheets read it as UTF-8


def _pdf_text(text: str) -> str:
    """Text the PDF's standard fonts can write (Windows-1252), the rest replaced."""
    text = text.replace("\u202f", "\u00a0")
    return text.encode("cp1252", "replace").decode("cp1252")


def letter_footer(campaign: Campaign) -> str:
    """Why the person receives the letter, and how to stop."""
    topic = KIND_TOPIC[campaign.kind]
    if topic is None:
        return "Vous recevez ce courrier en tant qu'adhérent : il concerne votre contrat."
    return (
        f"Vous recevez ce courrier parce que vous avez accepté de recevoir "
        f"« {Topic(topic).label} » par courrier. Pour ne plus le recevoir, modifiez vos "
        "préférences dans votre espace adhérent ou écrivez-nous à l'adresse ci-dessus ; "
        "le retrait est immédiat."
    )


def pdf_file(campaign: Campaign, *, actor) -> bytes:
    found = letters(campaign)
    organisation = settings.MUTUALIS_ORGANISATION
    today = date_format(timezone.localdate(), "j F Y")
    why = letter_footer(campaign)
    pdf = FPDF(format="A4", unit="mm")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_title(_pdf_text(campaign.subject))
    pdf.set_author(_pdf_text(organisation["name"]))
    for letter in found:
        pdf.add_page()
        pdf.set_font("helvetica", size=10)
        pdf.set_xy(20, 15)
        pdf.multi_cell(80, 5, _pdf_text(f"{organisation['name']}\n{organisation['address']}"))
        pdf.set_font("helvetica", size=11)
        pdf.set_xy(110, 50)  # the window of a DL envelope
        pdf.multi_cell(85, 5.5, _pdf_text("\n".join(letter.address_block)))
        pdf.set_xy(20, 95)
        pdf.cell(0, 6, _pdf_text(f"Le {today}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(20)
        pdf.set_font("helvetica", style="B", size=11)
        subject = campaigns.personalise(
            campaign.subject,
            first_names=letter.first_names,
            last_name=letter.last_name,
            civility="",
        )
        pdf.multi_cell(170, 6, _pdf_text(f"Objet : {subject}"))
        pdf.ln(4)
        pdf.set_font("helvetica", size=11)
        body = campaigns.personalise(
            campaign.body, first_names=letter.first_names, last_name=letter.last_name, civility=""
        )
        pdf.set_x(20)
        pdf.multi_cell(170, 5.5, _pdf_text(body))
        pdf.ln(8)
        pdf.set_font("helvetica", size=8)
        pdf.set_x(20)
        pdf.multi_cell(170, 4, _pdf_text(f"{why} Référence : {letter.reference}."))
    _record_download(campaign, actor, "pdf", len(found))
    return bytes(pdf.output())
