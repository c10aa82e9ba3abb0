"""Objection (GDPR art. 21), withdrawal of consent (art. 7(3)) and restriction (art. 18).

- An objection on grounds relating to the person's situation concerns processing based on the
  mutuelle's legitimate interest; the DPO weighs it (:func:`decide_objection`): upheld, the
  processing stops (a restriction on the ground "objection"); rejected, only for compelling
  legitimate grounds, stated in the refusal.
- An objection to direct marketing is absolute and immediate: no reason, no staff step.
- Withdrawing consent is as easy as giving it, immediate, and not retroactive.
- A restriction leaves storage only, per purpose or for all; it is lifted only after the person
  was told (:func:`notify_restriction_lift`, then :func:`lift_restriction`).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.text import get_text_list

from mutualis.consent import services as consent
from mutualis.consent.models import Source
from mutualis.privacy import catalogue, restrictions
from mutualis.privacy.declaration import LegalBasis
from mutualis.privacy.models import Restriction, RestrictionGround
from mutualis.rights import emails
from mutualis.rights.models import Kind, Outcome, RequestEvent, RightsRequest
from mutualis.rights.services import (
    RightsError,
    answer,
    audit_step,
    person_of,
    ready,
    refuse,
)
from mutualis.rights.tags import RightsTag

Action = RequestEvent.Action
SOURCE = Source.RIGHTS_REQUEST

# Purposes one may object to on grounds relating to one's situation (GDPR art. 21(1)): those
# resting on the mutuelle's legitimate interest.
OBJECTABLE = tuple(
    p for p in catalogue.ALL_PURPOSES if p.legal_basis == LegalBasis.LEGITIMATE_INTEREST
)
PURPOSES = {p.code: p for p in catalogue.ALL_PURPOSES}
ALL = restrictions.ALL_PURPOSES


def _purpose_names(codes) -> str:
    names = [
        "toutes les finalités" if code == ALL else f"« {PURPOSES[code].title} »" for code in codes
    ]
    return get_text_list(names, "et")


# --- Objection (GDPR art. 21) ----------------------------------------------------------------
def handle_objection(*, request: RightsRequest, actor=None) -> RightsRequest:
    """An objection on grounds relating to the person's situation (art. 21(1)) to processing
    based on legitimate interest: the DPO weighs it (:func:`decide_objection`)."""
    with transaction.atomic():
        request = ready(request, Kind.OBJECTION)
        codes = request.details.get("purposes", [])
        if not codes or any(code not in {p.code for p in OBJECTABLE} for code in codes):
            raise RightsError(
                "L'opposition pour motifs légitimes porte sur les traitements fondés sur "
                "l'intérêt légitime de la mutuelle : "
                + get_text_list([f"« {p.title} »" for p in OBJECTABLE], "ou")
                + "."
            )
        request.log(
            Action.NOTE,
            actor=actor,
            note=f"À décider par le délégué à la protection des données : {_purpose_names(codes)}.",
        )
        return request


def decide_objection(*, request: RightsRequest, upheld: bool, grounds: str, actor) -> RightsRequest:
    """The DPO's decision on an objection (art. 21(1)): upheld, the processing stops for those
    purposes (a restriction on the ground "objection"); rejected, only for compelling legitimate
    grounds that override the person's interests, or for legal claims, stated in the refusal."""
    grounds = (grounds or "").strip()
    if len(grounds) < 10:
        raise RightsError("Indiquez les motifs de la décision.")
    with transaction.atomic():
        request = ready(request, Kind.OBJECTION)
        person = person_of(request)
        codes = request.details.get("purposes", [])
        request.details = {**request.details, "decision": "upheld" if upheld else "rejected"}
        request.save(update_fields=["details"])
        request.log(Action.DECISION, actor=actor, note=grounds)
        audit_step(RightsTag.OBJECTION_DECIDE, request, actor=actor, upheld=upheld)
        if not upheld:
            return refuse(
                request=request,
                reasons="Nous poursuivons ce traitement pour des motifs légitimes et impérieux "
                f"qui prévalent sur vos intérêts (RGPD art. 21(1)) : {grounds}",
                actor=actor,
            )
        for code in codes:
            restrictions.start(
                subject=person,
                purpose=code,
                ground=RestrictionGround.OBJECTION,
                reason=grounds,
                actor=actor,
                source=f"rights.rightsrequest:{request.pk}",
            )
        return answer(
            request=request,
            outcome=Outcome.GRANTED,
            text=f"Votre opposition est admise : nous cessons de traiter vos données pour "
            f"{_purpose_names(codes)}. Elles restent seulement conservées, le temps des durées "
            "légales.",
            actor=actor,
        )


def handle_marketing_objection(*, request: RightsRequest, actor=None) -> RightsRequest:
    """Objection to direct marketing (art. 21(2) and (3)): absolute, immediate, no reason asked,
    no staff step."""
    with transaction.atomic():
        request = ready(request, Kind.MARKETING_OBJECTION)
        consent.object_to_marketing(person=person_of(request), source=SOURCE, actor=actor)
        request.log(Action.WORK, actor=actor, note="Opposition à la prospection enregistrée.")
        return answer(
            request=request,
            outcome=Outcome.GRANTED,
            text="Votre opposition à la prospection est enregistrée et prend effet "
            "immédiatement : vous ne recevrez plus aucune communication commerciale de notre "
            "part, quel que soit le canal. Les messages liés à la gestion de votre contrat "
            "continuent de vous être adressés.",
            actor=actor,
        )


def handle_consent_withdrawal(*, request: RightsRequest, actor=None) -> RightsRequest:
    """Withdrawal of consent (art. 7(3)): as easy as giving it, immediate, not retroactive.
    ``details`` may name one ``topic`` and ``channel``; otherwise every consent is withdrawn."""
    with transaction.atomic():
        request = ready(request, Kind.CONSENT_WITHDRAWAL)
        person = person_of(request)
        topic, channel = request.details.get("topic"), request.details.get("channel")
        if topic and channel:
            consent.withdraw(
                person=person, topic=topic, channel=channel, source=SOURCE, actor=actor
            )
            what = "votre accord pour cette communication est retiré"
        else:
            count = consent.withdraw_all(person=person, source=SOURCE, actor=actor)
            what = (
                f"vos {count} accords en cours sont retirés"
                if count > 1
                else "votre accord est retiré"
                if count
                else "aucun accord n'était en cours : rien ne vous sera adressé sans votre accord"
            )
        request.log(Action.WORK, actor=actor, note="Consentement retiré.")
        return answer(
            request=request,
            outcome=Outcome.GRANTED,
            text=f"C'est fait : {what}, à compter d'aujourd'hui. Ce retrait n'a pas d'effet sur "
            "les traitements faits auparavant (RGPD art. 7(3)).",
            actor=actor,
        )


# --- Restriction (GDPR art. 18) --------------------------------------------------------------
def handle_restriction(*, request: RightsRequest, actor=None) -> RightsRequest:
    """Restriction (art. 18): from now on, storage only, for the purposes named (or all)."""
    with transaction.atomic():
        request = ready(request, Kind.RESTRICTION)
        person = person_of(request)
        codes = request.details.get("purposes") or [ALL]
        if ALL in codes:
            codes = [ALL]
        unknown = [c for c in codes if c != ALL and c not in PURPOSES]
        if unknown:
            raise RightsError("Finalité inconnue.")
        reason = (request.details.get("reason") or "").strip() or "Demande de la personne."
        for code in codes:
            restrictions.start(
                subject=person,
                purpose=code,
                ground=RestrictionGround.RESTRICTION,
                reason=reason,
                actor=actor,
                source=f"rights.rightsrequest:{request.pk}",
            )
        request.log(Action.WORK, actor=actor, note=f"Limitation : {_purpose_names(codes)}.")
        return answer(
            request=request,
            outcome=Outcome.GRANTED,
            text=f"Le traitement de vos données est limité pour {_purpose_names(codes)} : elles "
            "sont seulement conservées, et ne sont utilisées qu'avec votre accord ou pour la "
            "constatation, l'exercice ou la défense de droits en justice (RGPD art. 18(2)). "
            "Nous vous préviendrons avant de lever cette limitation.",
            actor=actor,
        )


def _restriction_address(restriction: Restriction) -> tuple[str, RightsRequest | None]:
    """Where to tell the person: the address of the request it came from, else their own."""
    from mutualis.members.models import Person

    target, _, pk = restriction.source.partition(":")
    source = (
        RightsRequest.objects.filter(pk=pk).first() if target == "rights.rightsrequest" else None
    )
    if source is not None and source.reply_address:
        return source.reply_address, source
    person = Person.objects.filter(pk=restriction.subject_id).first()
    return (person.email if person else ""), source


def notify_restriction_lift(*, restriction: Restriction, reason: str, actor) -> Restriction:
    """Tell the person a restriction is about to be lifted (art. 18(3)), then record the notice;
    :func:`lift_restriction` is refused until this is done."""
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise RightsError("Indiquez pourquoi la limitation est levée.")
    with transaction.atomic():
        address, source = _restriction_address(restriction)
        if not address:
            raise RightsError(
                "Aucune adresse électronique pour prévenir la personne : écrivez-lui par "
                "courrier, puis enregistrez l'avis."
            )
        scope = (
            "toutes les finalités"
            if restriction.purpose == ALL
            else f"« {PURPOSES[restriction.purpose].title} »"
            if restriction.purpose in PURPOSES
            else restriction.purpose
        )
        body = emails.render(
            "restriction_lift.txt", restriction=restriction, scope=scope, reason=reason
        )
        emails.send_on_commit(
            to=address, subject="Levée de la limitation du traitement de vos données", body=body
        )
        restriction = restrictions.record_lift_notice(restriction=restriction, actor=actor)
        if source is not None:
            source.log(Action.NOTE, actor=actor, note=f"Avis de levée de limitation : {reason}")
    return restriction


def lift_restriction(*, restriction: Restriction, actor) -> Restriction:
    """Lift a restriction, once the person was told (art. 18(3))."""
    try:
        return restrictions.lift(restriction=restriction, actor=actor)
    except restrictions.RestrictionError as error:
        raise RightsError(str(error)) from None
