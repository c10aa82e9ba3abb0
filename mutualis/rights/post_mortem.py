"""Post-mortem directives and the recording of a death (Loi 78-17 art. 84 and 85).

- A person records directives about their data after their death: general (all their data) or
  specific (their data at the mutuelle), with the person they designate to see them carried out.
  They may change or revoke them at any time.
- When staff record a death on proof, the directives in force are set in motion: the designated
  person is told by e-mail (what the directives say, and whom to ask), the directives are marked
  applied, the member-space account is closed and every communication consent withdrawn.
- Without directives, the heirs may ask what the law allows them (art. 85-II): the closing of the
  deceased's account and an objection to any further processing. Those requests are handled by
  :func:`handle_post_mortem` once the death is recorded.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.consent import services as consent
from mutualis.consent.models import Source
from mutualis.lib.french import de
from mutualis.members import services as members
from mutualis.members.models import Member
from mutualis.privacy import restrictions
from mutualis.privacy.models import RestrictionGround
from mutualis.rights import emails
from mutualis.rights.models import (
    Capacity,
    DeathRecord,
    DirectiveScope,
    Kind,
    Outcome,
    PostMortemDirective,
    ProofOfDeath,
    RequestEvent,
    RightsRequest,
)
from mutualis.rights.services import RightsError, answer, no_secrets, person_of, ready, refuse
from mutualis.rights.tags import RightsTag

Action = RequestEvent.Action
HEIR_ACTIONS = {
    "close_account": "la fermeture de son compte de l'espace adhérent",
    "object": "l'opposition à toute poursuite du traitement de ses données",
}


def record_directive(
    *,
    person,
    scope: str,
    instructions: str,
    designated_name: str = "",
    designated_email: str = "",
    actor=None,
    request: RightsRequest | None = None,
) -> PostMortemDirective:
    """Record the person's directives (art. 85-I). New directives of the same scope replace the
    previous ones, which stay on record as revoked."""
    if scope not in DirectiveScope.values:
        raise RightsError("Précisez s'il s'agit de directives générales ou particulières.")
    instructions = no_secrets(instructions, "Directives")
    if len(instructions) < 10:
        raise RightsError("Écrivez vos directives (10 caractères au moins).")
    designated_name = designated_name.strip()[:150]
    designated_email = designated_email.strip().lower()
    if designated_email:
        try:
            validate_email(designated_email)
        except ValidationError:
            raise RightsError("L'adresse de la personne désignée n'est pas valide.") from None
    if designated_email and not designated_name:
        raise RightsError("Indiquez le nom de la personne désignée.")
    with transaction.atomic():
        now = timezone.now()
        previous = PostMortemDirective.objects.in_force().filter(person=person, scope=scope)
        for old in previous:
            old.revoked_at = now
            old.save(update_fields=["revoked_at"])
            audit.record(RightsTag.DIRECTIVE_REVOKE, actor=actor, subject=person, target=old)
        directive = PostMortemDirective.objects.create(
            person=person,
            scope=scope,
            instructions=instructions,
            designated_name=designated_name,
            designated_email=designated_email,
            request=request,
            recorded_at=now,
        )
        audit.record(
            RightsTag.DIRECTIVE_RECORD,
            actor=actor,
            subject=person,
            target=directive,
            details={"scope": scope, "designee": bool(designated_email)},
        )
    return directive


def revoke_directive(*, directive: PostMortemDirective, actor=None) -> PostMortemDirective:
    """The person withdraws their directives (art. 85-I: revocable at any time)."""
    with transaction.atomic():
        directive = PostMortemDirective.objects.select_for_update().get(pk=directive.pk)
        if directive.revoked_at is None:
            directive.revoked_at = timezone.now()
            directive.save(update_fields=["revoked_at"])
            audit.record(
                RightsTag.DIRECTIVE_REVOKE,
                actor=actor,
                subject=directive.person_id,
                target=directive,
            )
    return directive


def _close_account(person, *, actor, reason: str) -> bool:
    member = Member.objects.filter(person=person).select_related("account").first()
    if member is None or member.account is None:
        return False
    members.close_account(account=member.account, actor=actor, reason=reason)
    return True


def record_death(
    *, person, date: datetime.date, proof_type: str, actor
) -> tuple[DeathRecord, list[PostMortemDirective]]:
    """Record a death on proof and apply the directives in force (art. 85-I).

    Each designated person is told by e-mail once the transaction commits; the directives are
    marked applied; the account is closed and consents withdrawn (no more communications to a
    deceased person). Returns the death record and the directives applied.
    """
    if proof_type not in ProofOfDeath.values:
        raise RightsError("Indiquez le justificatif du décès.")
    if date > timezone.localdate():
        raise RightsError("La date du décès ne peut pas être dans le futur.")
    with transaction.atomic():
        if DeathRecord.objects.filter(person=person).exists():
            raise RightsError("Ce décès est déjà enregistré.")
        death = DeathRecord.objects.create(
            person=person,
            date_of_death=date,
            proof_type=proof_type,
            recorded_by=actor if getattr(actor, "is_staff_account", False) else None,
        )
        audit.record(
            RightsTag.DEATH_RECORD,
            actor=actor,
            subject=person,
            target=death,
            details={"proof": proof_type},
        )
        consent.withdraw_all(person=person, source=Source.RIGHTS_REQUEST, actor=actor)
        _close_account(person, actor=actor, reason="death")
        applied = []
        for directive in PostMortemDirective.objects.in_force().filter(person=person):
            directive.applied_at = timezone.now()
            directive.save(update_fields=["applied_at"])
            if directive.designated_email:
                emails.send_on_commit(
                    to=directive.designated_email,
                    subject="Directives relatives aux données personnelles d'un proche",
                    body=emails.render(
                        "designee.txt",
                        deceased_name=person.full_name,
                        death=death,
                        directive=directive,
                    ),
                )
            audit.record(
                RightsTag.DIRECTIVE_APPLY,
                actor=actor,
                subject=person,
                target=directive,
                details={"designee_told": bool(directive.designated_email)},
            )
            applied.append(directive)
    return death, applied


def handle_post_mortem(*, request: RightsRequest, actor=None) -> RightsRequest:
    """A post-mortem request.

    From the person themself: their directives (``details``: ``scope``, ``instructions``,
    ``designated_name``, ``designated_email``) are recorded at once and the request answered.
    From an heir (art. 85-II), once the death is recorded and when the deceased left no
    directives: ``details["heir_actions"]`` among ``close_account`` and ``object``; with
    directives in force, the designated person acts and the heir's request is refused with that
    reason.
    """
    with transaction.atomic():
        request = ready(request, Kind.POST_MORTEM)
        person = person_of(request)
        details = request.details
        if request.requester_capacity == Capacity.SELF:
            directive = record_directive(
                person=person,
                scope=details.get("scope", ""),
                instructions=details.get("instructions", ""),
                designated_name=details.get("designated_name", ""),
                designated_email=details.get("designated_email", ""),
                actor=actor,
                request=request,
            )
            request.log(Action.WORK, actor=actor, note="Directives enregistrées.")
            designee = (
                f" Vous avez désigné {directive.designated_name} pour veiller à leur respect ; "
                "cette personne sera prévenue lorsque votre décès nous sera connu."
                if directive.designated_name
                else ""
            )
            return answer(
                request=request,
                outcome=Outcome.GRANTED,
                text=f"Vos {directive.get_scope_display().lower()} sont enregistrées le "
                f"{timezone.localtime(directive.recorded_at):%d/%m/%Y}.{designee} Vous pouvez "
                "les modifier ou les révoquer à tout moment depuis votre espace adhérent "
                "(loi 78-17 art. 85).",
                actor=actor,
            )
        death = DeathRecord.objects.filter(person=person).first()
        if death is None:
            raise RightsError(
                "Le décès doit d'abord être enregistré, sur justificatif, avant qu'un héritier "
                "n'exerce ces droits."
            )
        if PostMortemDirective.objects.filter(person=person, revoked_at__isnull=True).exists():
            return refuse(
                request=request,
                reasons="La personne décédée a laissé des directives sur le sort de ses données : "
                "leur mise en œuvre revient à la personne qu'elle a désignée (loi 78-17 "
                "art. 85-I).",
                actor=actor,
            )
        wanted = [a for a in details.get("heir_actions", []) if a in HEIR_ACTIONS]
        if not wanted:
            raise RightsError(
                "Indiquez ce que demande l'héritier : fermeture du compte, opposition."
            )
        if "close_account" in wanted:
            _close_account(person, actor=actor, reason="heir")
        if "object" in wanted:
            consent.withdraw_all(person=person, source=Source.RIGHTS_REQUEST, actor=actor)
            restrictions.start(
                subject=person,
                purpose=restrictions.ALL_PURPOSES,
                ground=RestrictionGround.OBJECTION,
                reason="Opposition d'un héritier après le décès (loi 78-17 art. 85-II).",
                actor=actor,
                source=f"rights.rightsrequest:{request.pk}",
            )
        request.log(Action.WORK, actor=actor, note=", ".join(wanted))
        done = " et ".join(HEIR_ACTIONS[a] for a in wanted)
        return answer(
            request=request,
            outcome=Outcome.GRANTED,
            text=f"Nous avons pris en compte le décès {de(person.full_name)}, survenu le "
            f"{death.date_of_death:%d/%m/%Y}, et procédé à {done}. Ses données restent "
            "conservées le temps des durées légales, sans autre usage.",
            actor=actor,
        )
