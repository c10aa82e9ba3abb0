"""The authorities' requisitions: register, the DPO's decision, the scoped encrypted export.

- **Register** (:func:`register`): authority, legal basis, the authority's reference, the
  people (members or beneficiaries, each named: :func:`.requisition_scope.designate`) and
  categories asked for, the deadline, and whether the person may be told.
- **Decision** (:func:`decide`): the DPO approves or refuses, always with reasons.
- **Export** (:func:`export`): for an approved requisition, each person named, and only their
  own data, in exactly the categories asked for (:func:`.requisition_scope.document`) — read by
  the access copy's walk of the declaration, which the face passes in (``read_copy``: the
  rights app sits above this one) — in an encrypted archive with a
  checksum manifest. The container is the backups' (:mod:`mutualis.vault.backup_file`: AES-256-
  GCM frames, authenticated header), under a key made for this export alone, shown once to the
  DPO to hand over apart from the archive, never stored. Each person's data is one disclosure
  to the authorities, in the transaction that stores the archive. A person under restriction
  (GDPR art. 18) is exported only once the DPO has recorded the exception for legal claims;
  otherwise the export stops and says who.
- **Telling the person** (GDPR art. 14, 15): each person is told by e-mail (or a letter to post)
  once the export is made, unless the requisition forbids it; then they are told when the DPO
  records that the secrecy has ended, and meanwhile the disclosure is withheld from their
  access copy (:mod:`mutualis.recipients.register`).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.members.models import Person
from mutualis.privacy import catalogue, restrictions
from mutualis.recipients import requisition_scope as scope
from mutualis.recipients.models import Organisation, OrganisationKind
from mutualis.recipients.models_requisitions import (
    Requisition,
    RequisitionStatus,
    RequisitionSubject,
    ToldChannel,
)
from mutualis.recipients.services import RecipientsError, actor_label
from mutualis.recipients.tags import RecipientsTag
from mutualis.vault.backup_file import BackupReader, BackupWriter
from mutualis.vault.keys import BackupKey, BackupKeyRing, key_id

RECIPIENT = catalogue.AUTHORITIES
KIND = "requisition"
FORMAT = "mutualis-requisition"
ReadCopy = Callable[[Person], dict]


@dataclass(frozen=True)
class Export:
    archive: bytes
    key: str  # urlsafe base64 of the archive's key: shown once, never stored
    sha256: str


def _codes(categories) -> list[str]:
    granted = {c.code for c in RECIPIENT.categories}
    codes = sorted({getattr(c, "code", c) for c in categories})
    if not codes or any(code not in granted for code in codes):
        raise RecipientsError("Choisissez les catégories de données demandées par l'autorité.")
    return codes


def register(
    *,
    organisation: Organisation,
    legal_basis: str,
    reference: str,
    received_on: datetime.date,
    deadline: datetime.date,
    people: list[Person],
    categories,
    forbids_notice: bool,
    secrecy_ground: str = "",
    actor,
) -> Requisition:
    """Record a requisition as received (policy section 3: "à leur demande")."""
    if organisation.kind != OrganisationKind.AUTHORITY:
        raise RecipientsError("Une réquisition émane d'une autorité administrative ou judiciaire.")
    legal_basis, reference = (legal_basis or "").strip(), (reference or "").strip()
    if not legal_basis or not reference:
        raise RecipientsError("Indiquez le fondement légal et la référence de la réquisition.")
    if deadline < received_on:
        raise RecipientsError("Le délai de réponse ne peut précéder la date de réception.")
    if not people:
        raise RecipientsError("Indiquez au moins une personne visée.")
    if forbids_notice and not (secrecy_ground or "").strip():
        raise RecipientsError("Indiquez le texte qui interdit d'informer les personnes.")
    codes = _codes(categories)
    people = list({p.pk: p for p in people}.values())
    with transaction.atomic():
        requisition = Requisition.objects.create(
            organisation=organisation,
            legal_basis=legal_basis[:300],
            reference=reference[:100],
            received_on=received_on,
            deadline=deadline,
            categories=codes,
            forbids_notice=forbids_notice,
            secrecy_ground=(secrecy_ground or "").strip()[:300] if forbids_notice else "",
            registered_by=actor_label(actor),
        )
        RequisitionSubject.objects.bulk_create(
            RequisitionSubject(requisition=requisition, subject_id=str(p.pk)) for p in people
        )
        audit.record(
            RecipientsTag.REQUISITION_REGISTER,
            actor=actor,
            target=requisition,
            details={"people": len(people), "categories": codes, "secret": forbids_notice},
        )
    return requisition


def decide(*, requisition: Requisition, approve: bool, reasons: str, actor) -> Requisition:
    """The DPO's decision, with its reasons (kept in the register)."""
    reasons = (reasons or "").strip()
    if len(reasons) < 10:
        raise RecipientsError("Motivez la décision (10 caractères au moins).")
    with transaction.atomic():
        requisition = Requisition.objects.select_for_update().get(pk=requisition.pk)
        if requisition.status != RequisitionStatus.RECEIVED:
            raise RecipientsError("Cette réquisition a déjà fait l'objet d'une décision.")
        requisition.move_to(RequisitionStatus.APPROVED if approve else RequisitionStatus.REFUSED)
        requisition.decided_at = timezone.now()
        requisition.decided_by = actor_label(actor)
        requisition.decision_reasons = reasons[:2000]
        requisition.save(update_fields=["status", "decided_at", "decided_by", "decision_reasons"])
        audit.record(
            RecipientsTag.REQUISITION_DECIDE,
            actor=actor,
            target=requisition,
            details={"approved": approve},
        )
    return requisition


def _line(value: dict) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _manifest(requisition: Requisition, files: list[dict]) -> dict:
    return {
        "format": FORMAT,
        "version": 1,
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "controller": settings.MUTUALIS_ORGANISATION["name"],
        "requisition": {
            "authority": requisition.organisation.identity,
            "reference": requisition.reference,
            "legal_basis": requisition.legal_basis,
            "received_on": requisition.received_on.isoformat(),
            "deadline": requisition.deadline.isoformat(),
            "categories": requisition.categories,
            "decided_at": timezone.localtime(requisition.decided_at).isoformat(timespec="seconds"),
        },
        "files": files,
    }


def _seal(requisition: Requisition, documents: list[tuple[str, bytes]]) -> Export:
    files = [
        {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        for name, data in documents
    ]
    manifest = _line(_manifest(requisition, files))
    secret = secrets.token_bytes(32)
    key = BackupKey(id=key_id(secret), secret=secret)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "export.bak"
        writer = BackupWriter(path, kind=KIND, key=key)
        try:
            writer.write(manifest + b"\n")
            for _name, data in documents:
                writer.write(data + b"\n")
            writer.close(
                {
                    "reference": requisition.reference,
                    "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
                    "files": len(files),
                }
            )
        except BaseException:
            writer.abort()
            raise
        archive = path.read_bytes()
    return Export(
        archive=archive,
        key=base64.urlsafe_b64encode(secret).decode(),
        sha256=hashlib.sha256(archive).hexdigest(),
    )


def reason_for(requisition: Requisition) -> str:
    return (
        f"Réquisition de {requisition.organisation.identity}, référence {requisition.reference}, "
        f"fondement : {requisition.legal_basis} ; décision du délégué à la protection des "
        f"données du {timezone.localtime(requisition.decided_at):%d/%m/%Y} (obligation légale, "
        "RGPD art. 6(1)(c))"
    )


def export(*, requisition: Requisition, read_copy: ReadCopy, actor) -> Export:
    """Export an approved requisition's scope; returns the archive and its one-time key."""
    requisition = Requisition.objects.select_related("organisation").get(pk=requisition.pk)
    if requisition.status != RequisitionStatus.APPROVED:
        raise RecipientsError("Seule une réquisition approuvée et pas encore exportée s'exporte.")
    subjects = list(requisition.subjects.order_by("pk"))
    people = Person.objects.in_bulk([Person._meta.pk.to_python(s.subject_id) for s in subjects])
    documents, exported = [], []
    clearances: dict[int, audit.Clearance] = {}  # the guard's answer, asked ahead
    for number, subject in enumerate(subjects, start=1):
        person = people.get(Person._meta.pk.to_python(subject.subject_id))
        if person is None:
            continue  # erased since: nothing left to give
        try:
            clearance = audit.clear_disclosure(
                recipient=RECIPIENT, subject=person, use=RecipientsTag.REQUISITION_EXPORT
            )
        except restrictions.ProcessingRestricted:
            raise RecipientsError(
                f"Le traitement des données de la personne {person.pk} est limité (RGPD art. "
                "18) : enregistrez d'abord l'exception pour la défense de droits en justice sur "
                "cette limitation, ou refusez cette partie de la réquisition."
            ) from None
        name = f"personne-{number:03d}.json"
        data = scope.document(
            categories=requisition.categories, rank=number, copy=read_copy(person)
        )
        documents.append((name, _line(data)))
        exported.append((subject, person))
        clearances[subject.pk] = clearance
    sealed = _seal(requisition, documents)
    reason = reason_for(requisition)
    with transaction.atomic():
        locked = Requisition.objects.select_for_update().get(pk=requisition.pk)
        if locked.status != RequisitionStatus.APPROVED:
            raise RecipientsError("Cette réquisition vient d'être exportée.")
        for subject, person in exported:
            subject.disclosure = audit.record_disclosure(
                recipient=RECIPIENT,
                subject=person,
                categories=requisition.categories,
                reason=reason,
                actor=actor,
                use=RecipientsTag.REQUISITION_EXPORT,
                clearance=clearances[subject.pk],
            )
            subject.save(update_fields=["disclosure"])
        locked.move_to(RequisitionStatus.EXPORTED)
        locked.exported_at = timezone.now()
        locked.archive = sealed.archive
        locked.archive_sha256 = sealed.sha256
        locked.archive_key_id = key_id(base64.urlsafe_b64decode(sealed.key))
        locked.save(
            update_fields=["status", "exported_at", "archive", "archive_sha256", "archive_key_id"]
        )
        audit.record(
            RecipientsTag.REQUISITION_EXPORT,
            actor=actor,
            target=locked,
            details={"people": len(exported), "sha256": sealed.sha256},
        )
        if not locked.is_secret:
            _tell(locked, exported, actor=actor)
        else:
            RequisitionSubject.objects.filter(pk__in=[s.pk for s, _ in exported]).update(
                told_channel=ToldChannel.WITHHELD
            )
    return sealed


def person_letter(requisition: Requisition) -> str:
    """What each person is told (by e-mail, or on paper when no address is known)."""
    organisation = settings.MUTUALIS_ORGANISATION
    categories = ", ".join(
        c.label for c in catalogue.ALL_CATEGORIES if c.code in requisition.categories
    )
    return (
        "Madame, Monsieur,\n\n"
        f"À la demande de {requisition.organisation.name} (référence {requisition.reference}), "
        f"et parce que la loi nous y oblige ({requisition.legal_basis}), {organisation['name']} "
        f"lui a communiqué le {timezone.localdate(requisition.exported_at):%d/%m/%Y} des données "
        f"vous concernant : {categories}.\n\n"
        "Cette communication figure dans la copie de vos données, que vous pouvez demander à tout "
        "moment depuis votre espace adhérent. Vous pouvez adresser toute question à notre délégué "
        f"à la protection des données ({organisation['dpo_email']}) et introduire une réclamation "
        "auprès de la CNIL (www.cnil.fr).\n\n"
        f"{organisation['name']}\n"
    )


def _tell(requisition: Requisition, exported, *, actor) -> None:
    """Tell each person (e-mail once committed, or a letter to post), and record it."""
    now = timezone.now()
    body = person_letter(requisition)
    for subject, person in exported:
        if person.email:
            message = EmailMessage(
                subject="Communication de vos données à une autorité",
                body=body,
                to=[person.email],
            )
            transaction.on_commit(lambda m=message: m.send(fail_silently=False))
            channel = ToldChannel.EMAIL
        else:
            channel = ToldChannel.LETTER
        subject.told_at, subject.told_channel = now, channel
        subject.save(update_fields=["told_at", "told_channel"])
        audit.record(
            RecipientsTag.REQUISITION_TELL,
            actor=actor,
            subject=person,
            target=requisition,
            details={"channel": channel},
        )


def lift_secrecy(*, requisition: Requisition, actor) -> Requisition:
    """The secrecy has ended (the DPO records it): the people are told now."""
    with transaction.atomic():
        requisition = Requisition.objects.select_for_update().get(pk=requisition.pk)
        if not requisition.is_secret:
            return requisition
        requisition.secrecy_lifted_at = timezone.now()
        requisition.save(update_fields=["secrecy_lifted_at"])
        audit.record(RecipientsTag.SECRECY_LIFT, actor=actor, target=requisition)
        if requisition.exported_at is not None:
            subjects = list(requisition.subjects.filter(disclosure__isnull=False))
            people = Person.objects.in_bulk(
                [Person._meta.pk.to_python(s.subject_id) for s in subjects]
            )
            exported = [
                (s, people[Person._meta.pk.to_python(s.subject_id)])
                for s in subjects
                if Person._meta.pk.to_python(s.subject_id) in people
            ]
            _tell(requisition, exported, actor=actor)
    return requisition


def download(*, requisition: Requisition, actor) -> bytes:
    """The encrypted archive, for the DPO to hand over (each download audited)."""
    if requisition.status != RequisitionStatus.EXPORTED or not requisition.archive:
        raise RecipientsError("Aucune archive n'est disponible pour cette réquisition.")
    with transaction.atomic():
        audit.record(RecipientsTag.REQUISITION_DOWNLOAD, actor=actor, target=requisition)
    return bytes(requisition.archive)


def record_delivery(*, requisition: Requisition, actor) -> Requisition:
    """The archive was handed over: the mutuelle's copy goes (the key was never kept)."""
    with transaction.atomic():
        requisition = Requisition.objects.select_for_update().get(pk=requisition.pk)
        requisition.move_to(RequisitionStatus.DELIVERED)
        requisition.delivered_at = timezone.now()
        requisition.delivered_by = actor_label(actor)
        requisition.archive = None
        requisition.save(update_fields=["status", "delivered_at", "delivered_by", "archive"])
        audit.record(RecipientsTag.REQUISITION_DELIVER, actor=actor, target=requisition)
    return requisition


def open_archive(path: Path, key: str) -> tuple[dict, list[tuple[str, dict]]]:
    """Decrypt and verify an export: ``(manifest, [(file name, document), …])``. Raises
    ``BackupError`` (altered or wrong key) or ``ValueError`` (a checksum that does not match)."""
    secret = base64.urlsafe_b64decode(key.strip())
    backup_key = BackupKey(id=key_id(secret), secret=secret)
    reader = BackupReader(
        path, kind=KIND, ring=BackupKeyRing(current=backup_key, by_id={backup_key.id: backup_key})
    )
    lines = [line for line in reader.lines() if line]
    manifest = json.loads(lines[0])
    if hashlib.sha256(lines[0]).hexdigest() != reader.header["manifest_sha256"]:
        raise ValueError("Le manifeste ne correspond pas à l'en-tête de l'archive.")
    if len(manifest["files"]) != len(lines) - 1:
        raise ValueError("L'archive ne contient pas les fichiers que son manifeste annonce.")
    documents = []
    for entry, data in zip(manifest["files"], lines[1:], strict=True):
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise ValueError(f"{entry['name']} : somme de contrôle inexacte.")
        documents.append((entry["name"], json.loads(data)))
    return manifest, documents
