"""The letters that tell the people of a breach (GDPR art. 34(2)): in clear and plain language,
the nature of the breach, the DPO's contact, the likely consequences and the measures taken —
by e-mail where the person has an address, by post otherwise. A person whose processing is
restricted (art. 18) is not written to without the DPO's decision (the guard refuses)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from mutualis import audit
from mutualis.breaches.models import AffectedPerson, Breach, LetterChannel, PeopleDecision
from mutualis.breaches.services import BreachError
from mutualis.breaches.tags import BreachTag
from mutualis.privacy import catalogue, restrictions

SUBJECT = "Information importante sur la sécurité de vos données"
RESTRICTED = (
    "traitement limité (RGPD art. 18) : décision du délégué à la protection des données requise"
)


def letter_text(breach: Breach, person) -> str:
    return render_to_string(
        "breaches/letter.txt",
        {"breach": breach, "person": person, "organisation": settings.MUTUALIS_ORGANISATION},
    )


def send_letters(*, breach: Breach, actor) -> dict[str, int]:
    """Write to everyone concerned not yet written to. E-mails leave after the commit; postal
    letters are printed from :func:`postal_letters`. Returns the counts per channel."""
    breach = Breach.objects.get(pk=breach.pk)
    if breach.people_decision != PeopleDecision.INFORM:
        raise BreachError("Décidez d'abord d'informer les personnes concernées.")
    counts = {"email": 0, "post": 0, "withheld": 0}
    pending = AffectedPerson.objects.filter(breach=breach, letter_at__isnull=True).select_related(
        "person"
    )
    outgoing = []
    for affected in pending:
        try:
            restrictions.ensure_allowed(
                affected.person, purpose=catalogue.SECURITY_LOGGING, use=BreachTag.LETTERS_SEND
            )
        except restrictions.ProcessingRestricted:
            AffectedPerson.objects.filter(pk=affected.pk).update(withheld=RESTRICTED)
            counts["withheld"] += 1
            continue
        outgoing.append(affected)
    with transaction.atomic():
        now = timezone.now()
        for affected in outgoing:
            channel = LetterChannel.EMAIL if affected.person.email else LetterChannel.POST
            AffectedPerson.objects.filter(pk=affected.pk).update(
                letter_channel=channel, letter_at=now, withheld=""
            )
            counts[channel] += 1
            if channel == LetterChannel.EMAIL:
                text, address = letter_text(breach, affected.person), affected.person.email
                transaction.on_commit(lambda t=text, a=address: send_mail(SUBJECT, t, None, [a]))
        if outgoing:
            Breach.objects.filter(pk=breach.pk, people_informed_at__isnull=True).update(
                people_informed_at=now
            )
        audit.record(BreachTag.LETTERS_SEND, actor=actor, target=breach, details=counts)
    return counts


def postal_letters(*, breach: Breach, actor) -> str:
    """The postal letters, one after the other (form feed between them), for printing."""
    people = AffectedPerson.objects.filter(
        breach=breach, letter_channel=LetterChannel.POST
    ).select_related("person")
    with transaction.atomic():
        text = "\f".join(letter_text(breach, affected.person) for affected in people)
        audit.record(
            BreachTag.LETTERS_EXPORT, actor=actor, target=breach, details={"letters": len(people)}
        )
    return text
