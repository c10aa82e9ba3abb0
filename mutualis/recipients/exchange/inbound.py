"""Importing a scheme organisation's acknowledgement file (accepted and rejected lines).

The file is checked whole before anything is written (format — every number, date and hash
present and well formed —, counts, hash, addressed to the mutuelle's number, the outbound
file it acknowledges by sequence and SHA-256, each line known and acknowledged once); then, in one
transaction, every line gets its result, each rejected person's line joins the *gestion*
service's queue, and the import is audited. Importing the same file again does nothing (its
hash is kept); a file that fails any check changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.recipients.exchange import format as fmt
from mutualis.recipients.models_exchange import (
    ExchangeAcknowledgement,
    ExchangeFile,
    ExchangeLine,
    ExchangeStatus,
    LineStatus,
)
from mutualis.recipients.tags import RecipientsTag

RESULTS = {"A": LineStatus.ACCEPTED, "R": LineStatus.REJECTED}


@dataclass
class Imported:
    exchange: ExchangeFile
    accepted: int
    rejected: int
    already: bool = False


def _exchange_of(header: dict) -> ExchangeFile:
    if header["receiver"] != settings.MUTUALIS_AMC_NUMBER:
        raise fmt.FormatError(
            f"Ligne 1 : cet accusé de réception est adressé à l'organisme n° "
            f"{header['receiver']}, pas à la mutuelle (n° {settings.MUTUALIS_AMC_NUMBER})."
        )
    exchange = (
        ExchangeFile.objects.select_related("organisation")
        .filter(
            organisation__identifier=header["sender"],
            organisation__kind="scheme",
            sequence=int(header["sequence"]),
        )
        .first()
    )
    if exchange is None:
        raise fmt.FormatError(
            f"Aucun fichier n° {int(header['sequence'])} n'a été envoyé à l'organisme "
            f"{header['sender']}."
        )
    if exchange.sha256 != header["file_sha256"]:
        raise fmt.FormatError(
            "L'accusé de réception porte sur un fichier d'une autre empreinte que celui envoyé."
        )
    if exchange.status == ExchangeStatus.BUILDING:
        raise fmt.FormatError("Ce fichier n'a pas encore été envoyé.")
    return exchange


def import_acknowledgement(path: Path, *, actor=None) -> Imported:
    """Import one acknowledgement file; raises ``FormatError`` (French) when it is invalid."""
    data = Path(path).read_bytes()
    digest = fmt.sha256(data)
    known = ExchangeAcknowledgement.objects.filter(sha256=digest).select_related("exchange").first()
    if known is not None:
        return Imported(known.exchange, known.accepted, known.rejected, already=True)
    records = fmt.split_records(data, fmt.ACK_FORMAT)
    header, trailer = records[0][1], records[-1][1]
    exchange = _exchange_of(header)
    results: dict[int, tuple[str, str, str]] = {}
    for number, fields in records[1:-1]:
        if fields["type"] != fmt.ACK_LINE:
            raise fmt.FormatError(f"Ligne {number} : ligne d'accusé de réception (200) attendue.")
        line = int(fields["line"])
        if fields["result"] not in RESULTS:
            raise fmt.FormatError(f"Ligne {number} : résultat A (acceptée) ou R (rejetée) attendu.")
        if fields["result"] == "R" and not fields["code"]:
            raise fmt.FormatError(f"Ligne {number} : une ligne rejetée indique son code de rejet.")
        if line in results:
            raise fmt.FormatError(f"Ligne {number} : la ligne {line} est acquittée deux fois.")
        results[line] = (RESULTS[fields["result"]], fields["code"], fields["label"])
    accepted = sum(1 for r in results.values() if r[0] == LineStatus.ACCEPTED)
    rejected = len(results) - accepted
    if (int(trailer["accepted"]), int(trailer["rejected"])) != (accepted, rejected):
        raise fmt.FormatError("Les totaux de la fin de fichier ne correspondent pas aux lignes.")
    lines = {line.number: line for line in exchange.lines.all()}
    unknown = sorted(set(results) - set(lines))
    if unknown:
        raise fmt.FormatError(
            f"Lignes inconnues du fichier n° {exchange.sequence} : "
            + ", ".join(map(str, unknown[:10]))
        )
    with transaction.atomic():
        exchange = ExchangeFile.objects.select_for_update().get(pk=exchange.pk)
        for number, (status, code, label) in sorted(results.items()):
            line = lines[number]
            line.status, line.reject_code, line.reject_label = status, code, label[:60]
            if status == LineStatus.REJECTED:
                audit.record(
                    RecipientsTag.EXCHANGE_ACKNOWLEDGE,
                    actor=actor,
                    subject=line.subject_id or None,
                    target=line,
                    details={"result": "rejected", "code": code},
                )
        ExchangeLine.objects.bulk_update(
            [lines[n] for n in results], ["status", "reject_code", "reject_label"]
        )
        if exchange.status == ExchangeStatus.WRITTEN:
            exchange.move_to(ExchangeStatus.ACKNOWLEDGED)
        exchange.acknowledged_at = timezone.now()
        exchange.save(update_fields=["status", "acknowledged_at"])
        ExchangeAcknowledgement.objects.create(
            exchange=exchange,
            sha256=digest,
            file_name=Path(path).name[:200],
            accepted=accepted,
            rejected=rejected,
        )
        audit.record(
            RecipientsTag.EXCHANGE_ACKNOWLEDGE,
            actor=actor,
            target=exchange,
            details={"sha256": digest, "accepted": accepted, "rejected": rejected},
        )
    return Imported(exchange, accepted, rejected)


def resolve_rejection(*, line: ExchangeLine, resolution: str, actor) -> ExchangeLine:
    """Record what the *gestion* service did about a rejected line (it leaves the queue)."""
    resolution = (resolution or "").strip()
    if len(resolution) < 5:
        raise ValueError("Indiquez la suite donnée au rejet (5 caractères au moins).")
    with transaction.atomic():
        line = ExchangeLine.objects.select_for_update().get(pk=line.pk)
        if line.status != LineStatus.REJECTED:
            raise ValueError("Cette ligne n'a pas été rejetée.")
        if line.resolved_at is not None:
            return line
        line.resolved_at = timezone.now()
        line.resolved_by = f"{actor._meta.model_name}:{actor.pk}" if actor else "system"
        line.resolution = resolution[:300]
        line.save(update_fields=["resolved_at", "resolved_by", "resolution"])
        audit.record(
            RecipientsTag.REJECTION_RESOLVE,
            actor=actor,
            subject=line.subject_id or None,
            target=line,
            details={"code": line.reject_code},
        )
    return line
