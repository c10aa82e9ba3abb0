"""Campaigns by post: the file for the printer, with only the people it may go to.

Handing a campaign to the printer is asked for in the back office (:func:`hand_to_printer`): the
request records who asked and when, and hands over the first ``IN_REQUEST_LETTERS`` letters
itself — a usual campaign is done there and then — and the periodic job (:func:`hand_over`, run
by ``manage.py send_campaigns``) does the rest of a larger one, so that no campaign holds a web
request for long. The work goes in chunks of one committed transaction each: a run killed
half-way leaves whole chunks, which the next run continues. For each chunk of frozen recipients
it checks them again — a consent to post withdrawn, an objection, a restriction, a death since
the audience was frozen leaves that person out (one query for the chunk) — then, person by
person, the restriction guard (GDPR art. 18) for the campaign's use, and the disclosure of their
name and postal address to the printer, a processor of the mutuelle (GDPR art. 28 and 30(1)(d);
the declaration's ``printer`` recipient), written with its audit event by
:func:`mutualis.audit.record_disclosure` (which guards the disclosure itself); the rows become
*handed to the printer* in the same transaction. The page of the campaign shows the progress;
once no row is left to check, the campaign is *sent*.

The files are then built from those rows only: a CSV of the address blocks (sorted by postal
code, as mail routing wants it) and a PDF of the letters, one per page, the address where a
window envelope shows it, the text addressed with the recipient's civility. The campaign's page
offers them once the hand-over is over; a file taken before would hold only the letters handed
over so far, each with its disclosure registered. Every download is audited.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from fpdf import FPDF

from mutualis import audit
from mutualis.consent import campaigns
from mutualis.consent.models import Campaign, CampaignStatus, Delivery, DeliveryStatus, Topic
from mutualis.consent.models.campaigns import KIND_TOPIC
from mutualis.consent.sending import INELIGIBLE, RESTRICTED, SENDING_ORDER, eligible_people
from mutualis.consent.tags import ConsentTag
from mutualis.members.models import Civility
from mutualis.privacy import catalogue, restrictions

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
_BATCH = 500
# Letters a web request hands over itself (a few seconds of work); the periodic job does the rest.
IN_REQUEST_LETTERS = 2000


class PostalError(ValueError):
    """A postal export the rules refuse (French message)."""


@dataclass(frozen=True)
class Letter:
    reference: str
    civility_code: str  # a Civility value ("MME"), empty when unknown
    last_name: str
    first_names: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str

    @property
    def civility(self) -> str:
        """« Madame », « Monsieur », or nothing."""
        return Civility(self.civility_code).label if self.civility_code in Civility.values else ""

    def personalise(self, text: str) -> str:
        """``text`` with the placeholders filled for this recipient, civility included."""
        return campaigns.personalise(
            text,
            first_names=self.first_names,
            last_name=self.last_name,
            civility=self.civility_code,
        )

    @property
    def address_block(self) -> list[str]:
        name = " ".join(p for p in (self.civility, self.first_names, self.last_name) if p)
        lines = [name, self.address_line1, self.address_line2]
        lines.append(f"{self.postal_code} {self.city}".strip())
        return [line for line in lines if line]


def hand_to_printer(*, campaign: Campaign, actor) -> int:
    """Ask for the hand-over of a postal campaign to the printer and begin it (see the module
    docstring): at most ``IN_REQUEST_LETTERS`` letters are handed over here, the periodic job
    hands over the rest. Returns how many letters this call handed over; 0 once the campaign
    was handed over (sent).
    """
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.channel != "post":
            raise PostalError("Cette campagne part par courriel, pas par courrier.")
        if campaign.status == CampaignStatus.SENT:
            return 0
        if campaign.status != CampaignStatus.SENDING:
            raise PostalError("Lancez d'abord l'envoi de la campagne.")
        if not campaign.printer_requested_at:
            pending = campaign.deliveries.filter(status=DeliveryStatus.PENDING).count()
            campaign.printer_requested_at = timezone.now()
            campaign.printer_requested_by = campaigns._label(actor)
            campaign.save(update_fields=["printer_requested_at", "printer_requested_by"])
            audit.record(
                ConsentTag.CAMPAIGN_HANDOVER,
                actor=actor,
                target=campaign,
                details={"letters": pending},
            )
    return hand_over(campaign, limit=IN_REQUEST_LETTERS).letters


def handover_in_progress(campaign: Campaign) -> bool:
    """Asked for and not finished: the printer's files would be partial."""
    return bool(campaign.printer_requested_at) and campaign.status == CampaignStatus.SENDING


@dataclass
class HandOver:
    letters: int = 0
    skipped: int = 0
    chunks: int = 0
    stopped: str = ""  # why the run stopped before the end, if it did


def due_handovers() -> list[Campaign]:
    """The postal campaigns whose hand-over was asked for and is not finished."""
    return list(
        Campaign.objects.filter(
            channel="post", status=CampaignStatus.SENDING, printer_requested_at__isnull=False
        ).order_by("printer_requested_at")
    )


def hand_over(
    campaign: Campaign,
    *,
    chunk: int | None = None,
    limit: int | None = None,
    progress: Callable[[int], None] = lambda n: None,
) -> HandOver:
    """Check, disclose and mark the recipients of a postal campaign whose hand-over was asked
    for, a chunk per transaction (see the module docstring), ``limit`` rows at most; close the
    campaign once nothing is left."""
    report = HandOver()
    chunk = chunk or _BATCH
    seen = 0
    while limit is None or seen < limit:
        size = chunk if limit is None else min(chunk, limit - seen)
        done = _hand_over_chunk(campaign, size, report)
        if done is None:
            break
        seen += done
        progress(done)
    campaigns.finish_if_done(campaign)
    return report


def _reason(campaign: Campaign) -> str:
    return (
        f"impression et routage de la campagne « {campaign.title} » par courrier "
        "(sous-traitant, RGPD art. 28)"
    )


def _hand_over_chunk(campaign: Campaign, size: int, report: HandOver) -> int | None:
    """One chunk, committed whole; ``None`` once nothing is left or the campaign stopped."""
    now = timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.SENDING or not campaign.printer_requested_at:
            report.stopped = campaign.status
            return None
        rows = campaign.deliveries.filter(status=DeliveryStatus.PENDING).order_by(*SENDING_ORDER)
        if connection.vendor == "postgresql":
            rows = rows.select_for_update(skip_locked=True)
        pending = list(rows.values_list("pk", "person_id")[:size])
        if not pending:
            return None
        eligible = eligible_people(campaign, [person for _, person in pending])
        purpose, use = campaigns.purpose_of(campaign.kind), campaigns.use_of(campaign.kind)
        actor = campaign.printer_requested_by or None
        kept, refused = [], []
        for pk, person in pending:
            if person not in eligible:
                continue
            try:
                restrictions.ensure_allowed(person, purpose=purpose, use=use)
                audit.record_disclosure(
                    recipient=catalogue.PRINTER,
                    subject=person,
                    categories=[catalogue.IDENTITY, catalogue.CONTACT],
                    reason=_reason(campaign),
                    actor=actor,
                    use=use,
                )
            except restrictions.ProcessingRestricted:  # the guard put its refusal on record
                refused.append(pk)
                continue
            kept.append(pk)
        ineligible = [pk for pk, person in pending if person not in eligible]
        Delivery.objects.filter(pk__in=ineligible).update(
            status=DeliveryStatus.SKIPPED, error=INELIGIBLE
        )
        Delivery.objects.filter(pk__in=refused).update(
            status=DeliveryStatus.SKIPPED, error=RESTRICTED
        )
        Delivery.objects.filter(pk__in=kept).update(
            status=DeliveryStatus.EXPORTED, sent_at=now, attempts=1
        )
        skipped = len(ineligible) + len(refused)
        report.chunks += 1
        report.letters += len(kept)
        report.skipped += skipped
        audit.record(
            ConsentTag.CAMPAIGN_EXPORT,
            target=campaign,
            details={"chunk": report.chunks, "letters": len(kept), "skipped": skipped},
        )
    return len(pending)


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
    return [
        Letter(str(pk)[:8], civ or "", last, first, line1, line2, code, city)
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
        subject = letter.personalise(campaign.subject)
        pdf.multi_cell(170, 6, _pdf_text(f"Objet : {subject}"))
        pdf.ln(4)
        pdf.set_font("helvetica", size=11)
        body = letter.personalise(campaign.body)
        pdf.set_x(20)
        pdf.multi_cell(170, 5.5, _pdf_text(body))
        pdf.ln(8)
        pdf.set_font("helvetica", size=8)
        pdf.set_x(20)
        pdf.multi_cell(170, 4, _pdf_text(f"{why} Référence : {letter.reference}."))
    _record_download(campaign, actor, "pdf", len(found))
    return bytes(pdf.output())
