"""The outbound affiliation file of one scheme organisation, built in resumable steps.

1. **Lines** (``BUILDING``): the people the organisation covers (their scheme's grand régime
   and caisse, or those of the insured they are attached to) whose contract is in force on the
   day, or ended since the organisation's previous file, are given a line, in batches ordered
   by person, so an interrupted run continues where it stopped; then one notice line per
   earlier line an art. 19 notice concerns. People whose processing is restricted (GDPR
   art. 18) and people whose NIR can no longer be read are left out, and counted.
2. **File**: the records are rendered from the lines and the people's current data (anyone
   restricted or erased since their line was chosen is left out now) and written under a
   hidden name (``.MTLAFF-….txt.part``), flushed to disk. Nothing has left yet: a transfer
   job takes only ``MTLAFF-*`` files.
3. **Sent**, in one transaction: each person's line becomes one disclosure to the mandatory
   schemes, with the file's name and SHA-256 in its reason; the exchange is recorded
   ``WRITTEN`` with that SHA-256; its notices are sent; the run is audited. A crash before the
   commit leaves nothing recorded (the rerun starts this step again, the hidden file is
   overwritten); so no person's data is ever recorded as sent without its disclosure, nor
   disclosed in a file that was not recorded as sent.
4. **Published**: after the commit, the hidden file is renamed to its name. If the run stops
   between the commit and the rename, the next run finds the exchange sent and the hidden file
   with the recorded hash, and renames it (it never renders the file again).

Running the command again the same day does nothing more: the exchange of the day exists.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from mutualis import audit
from mutualis.contracts.models import Contract
from mutualis.members.models import Person
from mutualis.privacy import catalogue, restrictions
from mutualis.recipients.exchange import format as fmt
from mutualis.recipients.exchange.render import Rendered, readable_nir, render_file
from mutualis.recipients.models import Notice, NoticeChannel, Organisation
from mutualis.recipients.models_exchange import (
    ExchangeFile,
    ExchangeLine,
    ExchangeStatus,
    LineKind,
)
from mutualis.recipients.tags import RecipientsTag

RECIPIENT = catalogue.MANDATORY_SCHEMES
CATEGORIES = (catalogue.ADMINISTRATIVE, catalogue.IDENTITY, catalogue.CONTRACT_DATA)
BATCH = 500
# The steps a progress bar shows (French: the operator reads them).
STEP_LINES = "choix des personnes"
STEP_DISCLOSURES = "inscription au registre des communications"


class Progress(Protocol):
    """What a run tells of its progress: a step begins (its total, when known), work is done."""

    def step(self, label: str, total: int | None) -> None: ...

    def advance(self, count: int) -> None: ...


class Silent:
    """No progress shown (tests, calls from code)."""

    def step(self, label: str, total: int | None) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


class ExchangeError(ValueError):
    """The exchange cannot go on as asked (French message for the operator)."""


@dataclass
class Outcome:
    exchange: ExchangeFile
    path: Path | None
    created: bool
    skipped_restricted: int = 0
    skipped_unreadable: int = 0
    disclosures: int = 0
    messages: list[str] = field(default_factory=list)


def file_name(exchange: ExchangeFile) -> str:
    return (
        f"MTLAFF-{exchange.organisation.identifier}-{exchange.sequence:06d}-"
        f"{exchange.as_of:%Y%m%d}.txt"
    )


def pending_name(exchange: ExchangeFile) -> str:
    """The hidden name the file has until it is recorded as sent."""
    return f".{exchange.file_name}.part"


def _open_exchange(organisation: Organisation, as_of: datetime.date) -> tuple[ExchangeFile, bool]:
    with transaction.atomic():
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        existing = ExchangeFile.objects.filter(organisation=organisation, as_of=as_of).first()
        if existing is not None:
            return existing, False
        last = ExchangeFile.objects.filter(organisation=organisation).aggregate(Max("sequence"))[
            "sequence__max"
        ]
        exchange = ExchangeFile.objects.create(
            organisation=organisation, sequence=(last or 0) + 1, as_of=as_of
        )
        exchange.file_name = file_name(exchange)
        exchange.save(update_fields=["file_name"])
        return exchange, True


def _contracts(organisation: Organisation, as_of: datetime.date):
    """Contracts in force on ``as_of``, or ended since the organisation's previous file."""
    previous = (
        ExchangeFile.objects.filter(organisation=organisation, as_of__lt=as_of)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )
    ended_since = previous or as_of
    return Contract.objects.filter(start_date__lte=as_of).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=ended_since)
    )


def _people(organisation: Organisation, contracts):
    regime, caisse = organisation.scheme_code
    own = Q(scheme_regime=regime, scheme_caisse=caisse)
    inherited = Q(
        scheme_regime="", nir_holder__scheme_regime=regime, nir_holder__scheme_caisse=caisse
    )
    covered = Q(member__contracts__in=contracts) | Q(beneficiary__contracts__in=contracts)
    return Person.objects.filter(covered).filter(own | inherited).distinct()


def add_lines(exchange: ExchangeFile, *, progress: Progress, outcome: Outcome) -> None:
    """Step 1, resumable: one line per person covered, then the notice lines."""
    organisation = exchange.organisation
    people = _people(organisation, _contracts(organisation, exchange.as_of))
    allowed = restrictions.exclude_restricted(people, purpose=catalogue.CONTRACT)
    outcome.skipped_restricted = people.count() - allowed.count()
    done = exchange.lines.filter(kind=LineKind.AFFILIATION)
    last_subject = done.order_by("-number").values_list("subject_id", flat=True).first()
    number = exchange.lines.aggregate(Max("number"))["number__max"] or 0
    progress.step(STEP_LINES, None)
    progress.advance(done.count())
    pending = allowed.order_by("pk")
    if last_subject:
        pending = pending.filter(pk__gt=last_subject)
    ids = list(pending.values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        batch = Person.objects.filter(pk__in=ids[start : start + BATCH]).select_related(
            "data_key", "nir_holder__data_key"
        )
        lines = []
        for person in sorted(batch, key=lambda p: p.pk):
            if not readable_nir(person):
                outcome.skipped_unreadable += 1
                continue
            number += 1
            lines.append(
                ExchangeLine(
                    exchange=exchange,
                    number=number,
                    kind=LineKind.AFFILIATION,
                    subject_id=str(person.pk),
                )
            )
        with transaction.atomic():
            ExchangeLine.objects.bulk_create(lines)
        progress.advance(len(lines))
    if not exchange.lines.filter(kind=LineKind.NOTICE).exists():
        _add_notice_lines(exchange, number)


def _add_notice_lines(exchange: ExchangeFile, number: int) -> None:
    notices = Notice.objects.pending().filter(
        organisation=exchange.organisation, channel=NoticeChannel.EXCHANGE
    )
    lines = []
    for notice in notices.order_by("created_at", "pk"):
        for _reference in notice.references:
            number += 1
            lines.append(
                ExchangeLine(exchange=exchange, number=number, kind=LineKind.NOTICE, notice=notice)
            )
    with transaction.atomic():
        ExchangeLine.objects.bulk_create(lines)


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_pending(exchange: ExchangeFile, directory: Path, data: bytes) -> Path:
    """Step 2: the file under its hidden name, flushed to disk (mode 0600)."""
    path = directory / pending_name(exchange)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(path, 0o600)
    return path


def send(exchange: ExchangeFile, rendered: Rendered, *, progress: Progress) -> int:
    """Step 3, one transaction: each person's line a disclosure naming the file and its hash,
    the exchange recorded as sent with that hash, its notices sent, the run audited. Returns
    the number of disclosures."""
    digest = fmt.sha256(rendered.data)
    reason = (
        f"Échange d'affiliation avec {exchange.organisation.identity} : fichier "
        f"{exchange.file_name}, empreinte SHA-256 {digest} (exécution du contrat, "
        "RGPD art. 6(1)(b))"
    )
    lines = rendered.affiliations
    now = timezone.now()
    with transaction.atomic():
        locked = ExchangeFile.objects.select_for_update().get(pk=exchange.pk)
        if locked.status != ExchangeStatus.BUILDING:
            raise ExchangeError(
                f"{exchange.file_name} vient d'être produit par une autre exécution."
            )
        ExchangeLine.objects.filter(pk__in=[line.pk for line in rendered.dropped]).delete()
        progress.step(STEP_DISCLOSURES, len(lines))
        for start in range(0, len(lines), BATCH):
            batch = lines[start : start + BATCH]
            for line in batch:
                line.disclosure = audit.record_disclosure(
                    recipient=RECIPIENT,
                    subject=line.subject_id,
                    categories=CATEGORIES,
                    reason=reason,
                )
            ExchangeLine.objects.bulk_update(batch, ["disclosure"])
            progress.advance(len(batch))
        locked.sha256 = digest
        locked.affiliations = len(lines)
        locked.notices = locked.lines.filter(kind=LineKind.NOTICE).count()
        locked.move_to(ExchangeStatus.WRITTEN)
        locked.written_at = now
        locked.save(update_fields=["sha256", "affiliations", "notices", "status", "written_at"])
        Notice.objects.filter(exchange_lines__exchange=locked, sent_at__isnull=True).update(
            sent_at=now
        )
        audit.record(
            RecipientsTag.EXCHANGE_WRITE,
            target=locked,
            details={
                "organisation": locked.organisation_id,
                "sequence": locked.sequence,
                "sha256": digest,
                "affiliations": locked.affiliations,
                "notices": locked.notices,
            },
        )
    exchange.refresh_from_db()
    return len(lines)


def publish(exchange: ExchangeFile, directory: Path) -> Path:
    """Step 4: the hidden file of a sent exchange takes its name (its hash checked first)."""
    pending = directory / pending_name(exchange)
    path = directory / exchange.file_name
    if fmt.sha256(pending.read_bytes()) != exchange.sha256:
        raise ExchangeError(
            f"{pending.name} ne correspond pas au fichier enregistré comme envoyé (empreinte "
            f"{exchange.sha256}) : il n'est pas publié."
        )
    os.replace(pending, path)
    _sync_directory(directory)
    return path


def run(
    organisation: Organisation,
    *,
    as_of: datetime.date,
    directory: Path,
    progress: Progress | None = None,
) -> Outcome:
    """Produce (or finish) the organisation's file of the day in ``directory``."""
    progress = progress or Silent()
    if organisation.kind != "scheme":
        raise ExchangeError(f"{organisation} n'est pas un organisme de régime obligatoire.")
    if not directory.is_dir():
        raise ExchangeError(f"Le dossier {directory} n'existe pas.")
    exchange, created = _open_exchange(organisation, as_of)
    outcome = Outcome(exchange=exchange, path=directory / exchange.file_name, created=created)
    if exchange.status != ExchangeStatus.BUILDING:
        written = (
            f"le {timezone.localtime(exchange.written_at):%d/%m/%Y à %H:%M} (empreinte "
            f"{exchange.sha256})"
        )
        if (directory / pending_name(exchange)).exists():
            publish(exchange, directory)
            outcome.messages.append(
                f"{exchange.file_name} enregistré comme envoyé {written} : publié maintenant."
            )
        else:
            outcome.messages.append(
                f"{exchange.file_name} déjà produit {written} : rien à refaire."
            )
        return outcome
    add_lines(exchange, progress=progress, outcome=outcome)
    rendered = render_file(exchange)
    # People restricted since their line was chosen are already among those add_lines counted
    # (it counts everyone covered and restricted now); people erased since were not.
    outcome.skipped_unreadable += rendered.unreadable
    write_pending(exchange, directory, rendered.data)
    try:
        outcome.disclosures = send(exchange, rendered, progress=progress)
    except restrictions.ProcessingRestricted:
        raise ExchangeError(
            f"Le traitement des données d'une personne de {exchange.file_name} vient d'être "
            "limité (RGPD art. 18) : rien n'a été envoyé. Relancez la commande : elle "
            "l'écartera."
        ) from None
    outcome.exchange = exchange
    publish(exchange, directory)
    return outcome
