"""The outbound affiliation file of one scheme organisation, built in resumable steps.

1. **Lines** (``BUILDING``): the people the organisation covers (their scheme's grand régime
   and caisse, or those of the insured they are attached to) whose contract is in force on the
   day, or ended since the organisation's previous file, are given a line, in batches ordered
   by person, so an interrupted run continues where it stopped; then one notice line per
   earlier line an art. 19 notice concerns. People whose processing is restricted (GDPR
   art. 18) and people whose NIR can no longer be read are left out, and counted.
2. **File**: the records are written to a temporary file, flushed, then renamed; its SHA-256
   is kept with the exchange, so a rerun finds the same file rather than writing another.
3. **Disclosures**: each person's line becomes one disclosure to the mandatory schemes, with
   the file's name and hash in its reason, in batches (each its own transaction).
4. **Sent**: the exchange is ``WRITTEN``, its notices sent, the run audited.

Running the command again the same day does nothing more: the exchange of the day exists.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from mutualis import audit
from mutualis.contracts.cover import CoverStatus, cover_status
from mutualis.contracts.models import Contract
from mutualis.members.models import Person
from mutualis.privacy import catalogue, restrictions
from mutualis.recipients.exchange import format as fmt
from mutualis.recipients.models import Notice, NoticeCause, NoticeChannel, Organisation
from mutualis.recipients.models_exchange import (
    ExchangeFile,
    ExchangeLine,
    ExchangeStatus,
    LineKind,
)
from mutualis.recipients.tags import RecipientsTag
from mutualis.vault.erased import is_erased
from mutualis.vault.exceptions import VaultError

RECIPIENT = catalogue.MANDATORY_SCHEMES
CATEGORIES = (catalogue.ADMINISTRATIVE, catalogue.IDENTITY, catalogue.CONTRACT_DATA)
BATCH = 500
STATUS_CODES = {
    CoverStatus.COVERED: "C",
    CoverStatus.SUSPENDED: "S",
    CoverStatus.TERMINATED: "R",
    CoverStatus.NOT_COVERED: "N",
}
QUALITY = {"": "A", "spouse": "C", "partner": "P", "child": "E"}
NATURE = {NoticeCause.RECTIFICATION: "R", NoticeCause.ERASURE: "E"}

Progress = Callable[[int], None]


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


def _readable_nir(person: Person) -> str:
    try:
        nir = (
            person.nir
            if person.nir is not None
            else (person.nir_holder.nir if person.nir_holder_id else None)
        )
    except VaultError:
        return ""
    return "" if nir is None or is_erased(nir) else str(nir)


def add_lines(exchange: ExchangeFile, *, progress: Progress, outcome: Outcome) -> None:
    """Step 1, resumable: one line per person covered, then the notice lines."""
    organisation = exchange.organisation
    people = _people(organisation, _contracts(organisation, exchange.as_of))
    allowed = restrictions.exclude_restricted(people, purpose=catalogue.CONTRACT)
    outcome.skipped_restricted = people.count() - allowed.count()
    done = exchange.lines.filter(kind=LineKind.AFFILIATION)
    last_subject = done.order_by("-number").values_list("subject_id", flat=True).first()
    number = exchange.lines.aggregate(Max("number"))["number__max"] or 0
    progress(done.count())
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
            if not _readable_nir(person):
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
        progress(len(lines))
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


def _contracts_of(people: list[Person], as_of: datetime.date) -> dict:
    """Each person's contracts (as member or beneficiary), two queries per batch."""
    found = defaultdict(list)
    ids = [p.pk for p in people]
    for contract in Contract.objects.filter(member__person__in=ids).select_related("member"):
        found[contract.member.person_id].append((contract, ""))
    through = Contract.beneficiaries.through.objects.filter(
        beneficiary__person__in=ids
    ).select_related("contract", "beneficiary")
    for row in through:
        found[row.beneficiary.person_id].append((row.contract, row.beneficiary.role))
    return found


def _affiliation(line: ExchangeLine, person: Person, contracts: list, as_of) -> str:
    ranked = sorted(
        ((cover_status(c, on=as_of), c, role) for c, role in contracts),
        key=lambda item: list(STATUS_CODES).index(item[0]),
    )
    status, contract, role = ranked[0] if ranked else (CoverStatus.NOT_COVERED, None, "")
    if person.nir is not None:
        nir, regime, caisse, centre = (
            person.nir,
            person.scheme_regime,
            person.scheme_caisse,
            person.scheme_centre,
        )
        rank = 1
    else:
        holder = person.nir_holder
        nir = holder.nir
        regime = person.scheme_regime or holder.scheme_regime
        caisse = person.scheme_caisse or holder.scheme_caisse
        centre = person.scheme_centre or holder.scheme_centre
        twins = sorted(
            p.pk
            for p in Person.objects.filter(nir_holder=holder).select_related("data_key")
            if p.birth_date == person.birth_date
        )
        rank = twins.index(person.pk) + 1 if person.pk in twins else 1
    return fmt.render(
        fmt.OUTBOUND_FORMAT,
        fmt.AFFILIATION,
        line=line.number,
        nir=nir,
        birth_date=person.birth_date,
        rank=rank,
        regime=regime,
        caisse=caisse,
        centre=centre or "",
        contract=contract.number if contract else "",
        start=contract.start_date if contract else None,
        end=contract.end_date if contract else None,
        status=STATUS_CODES[status],
        quality=QUALITY.get(role, "A"),
    )


def _notice_record(line: ExchangeLine, reference: str) -> str:
    notice = line.notice
    return fmt.render(
        fmt.OUTBOUND_FORMAT,
        fmt.NOTICE,
        line=line.number,
        nature=NATURE[notice.cause],
        reference=reference,
        date=timezone.localdate(notice.created_at),
    )


def render_file(exchange: ExchangeFile) -> bytes:
    """The whole file, from the exchange's lines and the people's current data."""
    organisation = exchange.organisation
    parts = [
        fmt.render(
            fmt.OUTBOUND_FORMAT,
            fmt.HEADER,
            format=fmt.OUTBOUND_FORMAT,
            version=fmt.VERSION,
            sender=settings.MUTUALIS_AMC_NUMBER,
            receiver=organisation.identifier,
            sequence=exchange.sequence,
            created_at=timezone.localtime(exchange.created_at).replace(tzinfo=None),
            as_of=exchange.as_of,
        )
    ]
    lines = list(exchange.lines.select_related("notice").order_by("number"))
    chosen = [line for line in lines if line.kind == LineKind.AFFILIATION]
    affiliations = []
    for start in range(0, len(chosen), BATCH):
        batch = chosen[start : start + BATCH]
        people = Person.objects.select_related("data_key", "nir_holder__data_key").in_bulk(
            [line.subject_id for line in batch]
        )
        contracts = _contracts_of(list(people.values()), exchange.as_of)
        for line in batch:
            person = people.get(_uuid(line.subject_id))
            if person is None or not _readable_nir(person):
                # Erased since the line was chosen: the line goes (numbers may have gaps).
                line.delete()
                continue
            parts.append(_affiliation(line, person, contracts[person.pk], exchange.as_of))
            affiliations.append(line)
    notice_lines = [line for line in lines if line.kind == LineKind.NOTICE]
    references_used: dict = defaultdict(int)
    for line in notice_lines:
        index = references_used[line.notice_id]
        references_used[line.notice_id] += 1
        parts.append(_notice_record(line, line.notice.references[index]))
    body = "".join(parts).encode(fmt.ENCODING)
    end = fmt.trailer(
        fmt.OUTBOUND_FORMAT,
        body,
        records=len(parts) + 1,
        affiliations=len(affiliations),
        notices=len(notice_lines),
    )
    return body + end.encode(fmt.ENCODING)


def _uuid(text: str):
    return Person._meta.pk.to_python(text)


def write_file(exchange: ExchangeFile, directory: Path) -> Path:
    """Step 2: write the file atomically (or find it again, the same, on a rerun)."""
    path = directory / exchange.file_name
    if exchange.sha256:
        if path.exists() and fmt.sha256(path.read_bytes()) == exchange.sha256:
            return path
        if exchange.lines.filter(disclosure__isnull=False).exists():
            raise ExchangeError(
                f"Le fichier {exchange.file_name} a déjà été produit (empreinte "
                f"{exchange.sha256}) et n'est plus dans {directory} : il ne peut pas être "
                "reconstitué à l'identique."
            )
    data = render_file(exchange)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".mtlaff-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    exchange.sha256 = fmt.sha256(data)
    exchange.save(update_fields=["sha256"])
    return path


def record_disclosures(exchange: ExchangeFile, *, progress: Progress) -> int:
    """Step 3, resumable: one disclosure per person's line, with the file's hash."""
    reason = (
        f"Échange d'affiliation avec {exchange.organisation.identity} : fichier "
        f"{exchange.file_name}, empreinte SHA-256 {exchange.sha256} (exécution du contrat, "
        "RGPD art. 6(1)(b))"
    )
    pending = exchange.lines.filter(kind=LineKind.AFFILIATION, disclosure__isnull=True)
    done = 0
    while batch := list(pending.order_by("number")[:BATCH]):
        with transaction.atomic():
            for line in batch:
                line.disclosure = audit.record_disclosure(
                    recipient=RECIPIENT,
                    subject=line.subject_id,
                    categories=CATEGORIES,
                    reason=reason,
                )
                line.save(update_fields=["disclosure"])
        done += len(batch)
        progress(len(batch))
    return done


def finish(exchange: ExchangeFile) -> None:
    """Step 4: the file is sent; the notices it carries too."""
    now = timezone.now()
    with transaction.atomic():
        exchange.affiliations = exchange.lines.filter(kind=LineKind.AFFILIATION).count()
        exchange.notices = exchange.lines.filter(kind=LineKind.NOTICE).count()
        exchange.move_to(ExchangeStatus.WRITTEN)
        exchange.written_at = now
        exchange.save(update_fields=["affiliations", "notices", "status", "written_at"])
        Notice.objects.filter(exchange_lines__exchange=exchange, sent_at__isnull=True).update(
            sent_at=now
        )
        audit.record(
            RecipientsTag.EXCHANGE_WRITE,
            target=exchange,
            details={
                "organisation": exchange.organisation_id,
                "sequence": exchange.sequence,
                "sha256": exchange.sha256,
                "affiliations": exchange.affiliations,
                "notices": exchange.notices,
            },
        )


def run(
    organisation: Organisation,
    *,
    as_of: datetime.date,
    directory: Path,
    progress: Progress = lambda n: None,
) -> Outcome:
    """Produce (or finish) the organisation's file of the day in ``directory``."""
    if organisation.kind != "scheme":
        raise ExchangeError(f"{organisation} n'est pas un organisme de régime obligatoire.")
    if not directory.is_dir():
        raise ExchangeError(f"Le dossier {directory} n'existe pas.")
    exchange, created = _open_exchange(organisation, as_of)
    outcome = Outcome(exchange=exchange, path=None, created=created)
    if exchange.status != ExchangeStatus.BUILDING:
        outcome.path = directory / exchange.file_name
        outcome.messages.append(
            f"{exchange.file_name} déjà produit le "
            f"{timezone.localtime(exchange.written_at):%d/%m/%Y à %H:%M} (empreinte "
            f"{exchange.sha256}) : rien à refaire."
        )
        return outcome
    if not exchange.sha256:
        add_lines(exchange, progress=progress, outcome=outcome)
    outcome.path = write_file(exchange, directory)
    outcome.disclosures = record_disclosures(exchange, progress=lambda n: None)
    finish(exchange)
    return outcome
