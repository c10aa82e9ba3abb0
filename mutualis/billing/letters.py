"""The letters of the unpaid-premium sequence (C. mutualité L221-7): notice, suspension,
termination, restoration.

A letter is recorded once per case and kind (:class:`~mutualis.billing.models.DunningLetter`);
its text is drawn again from its template and the case each time it is shown (as HTML in the
member space and the back office, as PDF to print and post), so no second copy of the member's
data is kept. When it is issued it is e-mailed to the member, with the PDF, once the transaction
has committed; the formal notice is also posted (the PDF is printed from the back office).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format

from mutualis import audit
from mutualis.billing.models import DunningCase, DunningLetter, LetterKind
from mutualis.billing.tags import BillingTag
from mutualis.lib import pdf

SUBJECTS = {
    LetterKind.NOTICE: "Mise en demeure — cotisation impayée",
    LetterKind.SUSPENSION: "Suspension de vos garanties — cotisation impayée",
    LetterKind.TERMINATION: "Résiliation de votre contrat pour non-paiement des cotisations",
    LetterKind.RESTORATION: "Reprise de vos garanties",
}


def context(letter: DunningLetter) -> dict:
    from mutualis.billing import dunning

    case = letter.case
    return {
        "case": case,
        "contract": case.contract,
        "member": case.contract.member,
        "person": case.contract.member.person,
        "suspension_on": dunning.suspension_on(case),
        "termination_on": dunning.termination_possible_on(case)
        or (
            dunning.suspension_on(case) + dunning.TERMINATION_AFTER if case.notice_sent_on else None
        ),
        "organisation": settings.MUTUALIS_ORGANISATION,
        "creditor_iban": settings.MUTUALIS_SEPA_CREDITOR_IBAN,
    }


def body(letter: DunningLetter) -> str:
    return render_to_string(f"billing/letters/{letter.kind}.txt", context(letter)).strip()


def footer() -> str:
    organisation = settings.MUTUALIS_ORGANISATION
    mediator = settings.MUTUALIS_MEDIATOR
    return (
        f"{organisation['name']} — SIREN {organisation['siren']}. En cas de désaccord, vous "
        "pouvez adresser une réclamation à la mutuelle (formulaire « Écrire à la mutuelle » de "
        f"votre espace adhérent, ou par courrier : {organisation['address']}) puis, à défaut de "
        f"réponse satisfaisante dans les deux mois, saisir {mediator['name']}, "
        f"{mediator['address']}."
    )


def as_letter(letter: DunningLetter) -> pdf.Letter:
    person = letter.case.contract.member.person
    organisation = settings.MUTUALIS_ORGANISATION
    day = timezone.localdate(letter.created_at)
    return pdf.Letter(
        sender=f"{organisation['name']}\nService cotisations\n{organisation['address']}",
        address=[
            f"{person.get_civility_display()} {person.first_names} {person.last_name}",
            *person.postal_address.split("\n"),
        ],
        date_line=f"Le {date_format(day, 'j F Y')}",
        subject=SUBJECTS[letter.kind],
        body=body(letter),
        footer=f"Adhérent n° {letter.case.contract.member.number}. {footer()}",
    )


def render_pdf(letters: list[DunningLetter]) -> bytes:
    return pdf.render(
        [as_letter(letter) for letter in letters],
        title="Lettres de relance",
        author=settings.MUTUALIS_ORGANISATION["name"],
    )


def issue(case: DunningCase, kind: str, *, actor=None) -> DunningLetter:
    """Record the letter of this step (once) and e-mail it to the member after commit."""
    letter, created = DunningLetter.objects.get_or_create(case=case, kind=kind)
    if not created:
        return letter
    person = case.contract.member.person
    letter.sent_at = timezone.now()
    letter.save(update_fields=["sent_at"])
    audit.record(
        BillingTag.LETTER_SEND,
        actor=actor,
        subject=person.pk,
        target=letter,
        details={"kind": kind, "email": bool(person.email)},
    )
    if person.email:
        subject = f"{SUBJECTS[kind]} — {settings.MUTUALIS_ORGANISATION['short_name']}"
        text = body(letter)
        attachment = render_pdf([letter])
        address = person.email

        def send() -> None:
            message = EmailMessage(subject=subject, body=text + "\n", to=[address])
            message.attach(f"{kind}-{case.contract.number}.pdf", attachment, "application/pdf")
            message.send()

        transaction.on_commit(send)
    return letter
