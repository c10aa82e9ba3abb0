"""Demo data for the DPO: complaints, rights requests in several states, a restriction, a legal
hold, and records whose retention falls due in the coming weeks (idempotent).

Runs after the members (``contracts.demo``) and their choices (``consent.demo``). Once loaded,
``privacy_check`` is clean: every request and complaint is within its deadline, and the retention
engine has run once (as the nightly job would), so the DPO's pages show a run, an archived
complaint, and — simulating a date a few weeks ahead — the inquiry and the e-mail body that fall
due then.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from mutualis.contact import services as contact
from mutualis.contact.models import Channel as ContactChannel
from mutualis.contact.models import ComplainantType
from mutualis.lib.demo import DemoLogin
from mutualis.members.models import Member
from mutualis.privacy import catalogue, holds, restrictions, retention
from mutualis.privacy.models import RestrictionGround
from mutualis.rights import processing, services
from mutualis.rights.models import Capacity, Channel, IdentityMethod, Kind, RightsRequest

DEMO_ACTOR = "system"


def _days_ago(days: int, hour: int = 10) -> datetime.datetime:
    moment = timezone.localtime() - datetime.timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def _member(email: str) -> Member | None:
    return Member.objects.filter(person__email=email).select_related("person", "account").first()


def _complaints() -> None:
    # A prospect's complaint by phone, three days ago: to acknowledge within 10 working days.
    inquiry = contact.open_inquiry(
        channel=ContactChannel.PHONE,
        subject="Devis jamais reçu",
        body="Appel de Mme Roche : elle attend depuis trois semaines le devis promis.",
        contact_name="Sophie Roche",
        contact_phone="06 70 11 22 33",
        received_at=_days_ago(3),
    )
    contact.qualify_as_complaint(
        inquiry=inquiry, complainant_type=ComplainantType.PROSPECT, reason="Devis non envoyé"
    )
    # A member's complaint, acknowledged, answered and closed: it goes to the archive.
    dave = _member("dave@example.org")
    if dave is not None:
        inquiry = contact.open_inquiry(
            channel=ContactChannel.LETTER,
            subject="Prélèvement en double",
            body="Mon compte a été débité deux fois en octobre.",
            person=dave.person,
            received_at=_days_ago(20),
        )
        complaint = contact.qualify_as_complaint(
            inquiry=inquiry,
            complainant_type=ComplainantType.MEMBER,
            reason="Double prélèvement",
            product="Complémentaire santé",
        )
        contact.acknowledge_complaint(complaint=complaint, actor=None)
        contact.answer(
            inquiry=inquiry,
            body="Le second prélèvement vous a été remboursé le 12 ; veuillez nous excuser.",
            actor=None,
        )
        contact.close_complaint(complaint=complaint, outcome="accepted", root_cause="Incident")


def _due_soon() -> None:
    # A prospect's question 35 months ago: deleted three years after the last contact, next month.
    contact.open_inquiry(
        channel=ContactChannel.EMAIL,
        subject="Tarif pour un couple",
        body="Bonjour, quel serait le tarif de la formule Confort pour un couple ?",
        contact_name="Henri Vasseur",
        contact_email="henri.vasseur@example.org",
        received_at=timezone.localtime() - datetime.timedelta(days=35 * 30),
    )
    # An e-mail received seven weeks ago: its body goes two months after receipt.
    contact.open_inquiry(
        channel=ContactChannel.EMAIL,
        subject="Attestation de tiers payant",
        body="Pourriez-vous m'envoyer une nouvelle attestation ?",
        contact_name="Lucie Caron",
        contact_email="lucie.caron@example.org",
        sender="lucie.caron@example.org",
        received_at=_days_ago(49),
    )


def _requests() -> None:
    alice, ines, marc = (
        _member(e) for e in ("alice@example.org", "ines@example.org", "marc@example.org")
    )
    # A former member's letter, twelve days ago: identity still to check.
    services.file_request(
        kind=Kind.ACCESS,
        requester_name="Gérard Fontaine",
        requester_address="4 rue des Lilas, 44000 Nantes",
        channel=Channel.LETTER,
        received_at=_days_ago(12),
        identity_verified=False,
        details={"message": "Ancien adhérent de 2012 à 2019."},
    )
    # An heir's request by e-mail: a document was asked, the deadline waits.
    waiting = services.file_request(
        kind=Kind.ERASURE,
        requester_name="Claire Dubois",
        requester_email="claire.dubois@example.org",
        requester_capacity=Capacity.HEIR,
        channel=Channel.EMAIL,
        received_at=_days_ago(6),
        identity_verified=False,
    )
    services.ask_identity_document(
        request=waiting,
        reason="Qualité d'héritière à justifier (acte de notoriété).",
        actor=None,
    )
    if alice is not None:
        # Alice's access request from her member space: answered at once.
        processing.request_from_member_space(member=alice, kind=Kind.ACCESS)
    if ines is not None:
        # Inès asked by phone to correct her name: identity checked, the service must check the
        # evidence before rectifying.
        request = services.file_request(
            kind=Kind.RECTIFICATION,
            person=ines.person,
            channel=Channel.PHONE,
            received_at=_days_ago(4),
            identity_verified=True,
            identity_method=IdentityMethod.OTHER,
            identity_note="Questions de sécurité sur le contrat.",
            details={"changes": {}, "message": "Nom d'usage après mariage."},
        )
        services.add_note(
            request=request, note="Justificatif d'état civil attendu par courrier.", actor=None
        )
    if marc is not None:
        # Marc: an answered and closed objection to marketing, and a legal hold (litigation).
        request = services.file_request(
            kind=Kind.MARKETING_OBJECTION,
            person=marc.person,
            channel=Channel.LETTER,
            received_at=_days_ago(40),
            identity_verified=True,
            identity_method=IdentityMethod.DOCUMENT,
        )
        request = processing.process(request=request)
        services.close(request=request)
        holds.place_hold(
            reason="Litige sur un remboursement : assignation devant le tribunal judiciaire",
            actor=DEMO_ACTOR,
            subject=marc.person,
        )
        # Marc also contests the accuracy of his postal address: communications restricted
        # while it is checked (the communication service's demo campaigns go to the others).
        restrictions.start(
            subject=marc.person,
            purpose=catalogue.COMMUNICATION,
            ground=RestrictionGround.RESTRICTION,
            reason="Exactitude de l'adresse contestée, vérification en cours.",
            actor=DEMO_ACTOR,
        )


def load() -> list[DemoLogin]:
    if RightsRequest.objects.exclude(channel=Channel.MEMBER_SPACE).exists():
        return []  # already loaded
    _complaints()
    _due_soon()
    _requests()
    retention.enforce()  # what the nightly job does: the closed complaint goes to the archive
    return []
