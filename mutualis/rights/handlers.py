"""One handler per kind of request: the work done automatically where the law allows it, and
the staff decisions where it needs one (architecture.md §7). Access, portability, rectification and
erasure are here; objection, consent withdrawal and restriction in
:mod:`mutualis.rights.objection`; post-mortem requests in :mod:`mutualis.rights.post_mortem`.

=====================  =====================================================================
kind                   handling
=====================  =====================================================================
access                 at once: the export (``rights.export``) is ready, the answer links to
                       it in the member space (or carries it when the person has no access)
portability            at once: the zip of JSON and CSV files, the same way
rectification          contact details at once; identity and administrative data once staff
                       checked the evidence (:func:`apply_rectification`); recipients told
erasure                at once, from the declaration (:mod:`mutualis.rights.erasure`)
objection (21(1))      staff decide (:func:`decide_objection`), grounds recorded
marketing objection    at once, absolute (``consent.services.object_to_marketing``)
consent withdrawal     at once (``consent.services.withdraw`` / ``withdraw_all``)
restriction            at once, per purpose or for all; lifted only after notice
post-mortem            directives recorded at once; heirs' requests once death is recorded
=====================  =====================================================================

Handlers take keyword arguments and run in one transaction; they leave the request answered,
or in progress with a step saying what staff must do.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_text_list

from mutualis import audit
from mutualis.consent import services as consent
from mutualis.consent.models import Source
from mutualis.lib.french import plural
from mutualis.members import services as members
from mutualis.members.models import Member
from mutualis.privacy import restrictions
from mutualis.privacy.models import RestrictionGround
from mutualis.recipients import notices as recipient_notices
from mutualis.recipients.models import NoticeCause
from mutualis.rights import erasure, export, rectification
from mutualis.rights.models import Kind, Outcome, RequestEvent, RightsRequest, Status
from mutualis.rights.services import RightsError, answer, audit_step, person_of, ready
from mutualis.rights.tags import RightsTag
from mutualis.vault import services as vault
from mutualis.vault.models import DataKey

Action = RequestEvent.Action
SOURCE = Source.RIGHTS_REQUEST


def _has_member_space(person) -> bool:
    member = Member.objects.filter(person=person).select_related("account").first()
    return bool(member and member.account_id and member.account.is_active)


# --- Access and portability (GDPR art. 15, 20) -----------------------------------------------
def _copy_answer(
    request: RightsRequest, *, what: str, attachment, request_page: str = ""
) -> tuple[str, tuple]:
    """Where the copy is: linked in the member space (never e-mailed when the person can log
    in: it holds the NIR and the IBAN), attached to the e-mail otherwise, or posted.
    ``request_page`` is the member-space page of the request, given by the face."""
    person = request.person
    if _has_member_space(person) and request.reply_address:
        page = f" : {request_page}" if request_page else " (rubrique « Mes demandes »)"
        where = (
            f"{what} est disponible dès maintenant dans votre espace adhérent, sur la page de "
            f"cette demande{page}. Par sécurité, elle n'est pas jointe à ce "
            "courriel : elle contient des données sensibles (numéro de sécurité sociale, IBAN)."
        )
        attachments = ()
    elif request.reply_address:
        where = f"{what} est jointe à ce courriel."
        attachments = (attachment(),)
    else:
        where = f"{what} vous est adressée par courrier, sur un support sécurisé."
        attachments = ()
    return where, attachments


def handle_access(*, request: RightsRequest, actor=None, request_page: str = "") -> RightsRequest:
    """Right of access (GDPR art. 15): the copy of every declared datum and the information
    owed (purposes, categories, recipients, retention, source, rights, the CNIL), at once.

    The copy is built once, where it is read: for a person who can log in, by the member-space
    page of the request (and each download); otherwise here, to be attached to the answer. It is
    never kept (it holds the NIR and the IBAN in clear)."""
    with transaction.atomic():
        request = ready(request, Kind.ACCESS)
        person = person_of(request)

        def attachment() -> tuple[str, bytes, str]:
            data = export.build_access_export(person)
            count = sum(len(c["records"]) for c in data["categories"])
            request.log(Action.WORK, actor=actor, note=f"Copie produite ({count} fiches).")
            return (
                f"donnees-{request.reference}.json",
                export.render_access_json(data),
                ("application/json"),
            )

        request.details = {**request.details, "generated_at": timezone.now().isoformat()}
        request.save(update_fields=["details"])
        where, attachments = _copy_answer(
            request,
            what="La copie de vos données (format JSON)",
            request_page=request_page,
            attachment=attachment,
        )
        if not attachments:
            request.log(Action.WORK, actor=actor, note="Copie mise à disposition.")
        text = (
            "Vous trouverez la copie de toutes les données que nous détenons sur vous, "
            "par catégorie, avec pour chacune les finalités, la base "
            "légale, les destinataires, la durée de conservation et l'origine, ainsi que les "
            "consultations et communications de vos données enregistrées dans notre journal.\n\n"
            + where
        )
        return answer(
            request=request,
            outcome=Outcome.GRANTED,
            text=text,
            actor=actor,
            attachments=attachments,
        )


def handle_portability(
    *, request: RightsRequest, actor=None, request_page: str = ""
) -> RightsRequest:
    """Portability (GDPR art. 20): the data the person provided, processed on contract or
    consent, in JSON and CSV (one file of each per category, in a zip), at once."""
    with transaction.atomic():
        request = ready(request, Kind.PORTABILITY)
        person = person_of(request)
        archive = export.portability_archive(person)
        request.log(Action.WORK, actor=actor, note=f"Archive produite ({len(archive)} octets).")
        where, attachments = _copy_answer(
            request,
            what="L'archive de vos données (fichiers JSON et CSV)",
            request_page=request_page,
            attachment=lambda: (
                f"portabilite-{request.reference}.zip",
                archive,
                "application/zip",
            ),
        )
        text = (
            "Vous trouverez les données que vous nous avez fournies, traitées pour l'exécution "
            "de votre contrat ou avec votre accord, dans un format structuré et lisible par "
            "machine (JSON et CSV), que vous pouvez transmettre à un autre organisme.\n\n" + where
        )
        return answer(
            request=request,
            outcome=Outcome.GRANTED,
            text=text,
            actor=actor,
            attachments=attachments,
        )


def _answered_copy(request: RightsRequest, kinds) -> None:
    if request.kind not in kinds or request.status not in (Status.ANSWERED, Status.CLOSED):
        raise RightsError("Aucune copie n'est attachée à cette demande.")


def access_copy(*, request: RightsRequest, actor) -> dict:
    """The access copy of an answered access request, built now for display (the member-space
    page); audited like a download, since it shows the NIR and the IBAN in clear."""
    _answered_copy(request, (Kind.ACCESS,))
    data = export.build_access_export(person_of(request))
    with transaction.atomic():
        audit_step(RightsTag.EXPORT_DOWNLOAD, request, actor=actor, format="html")
    return data


def export_file(*, request: RightsRequest, actor) -> tuple[str, bytes, str]:
    """The copy an answered access or portability request gives: ``(filename, content, type)``,
    built now, each download audited (it decrypts the NIR and IBAN)."""
    _answered_copy(request, (Kind.ACCESS, Kind.PORTABILITY))
    person = person_of(request)
    if request.kind == Kind.ACCESS:
        data = export.render_access_json(export.build_access_export(person))
        filename, content_type = f"donnees-{request.reference}.json", "application/json"
    else:
        data = export.portability_archive(person)
        filename, content_type = f"portabilite-{request.reference}.zip", "application/zip"
    with transaction.atomic():
        request.log(Action.DOWNLOAD, actor=actor, note=filename)
        audit_step(
            RightsTag.EXPORT_DOWNLOAD, request, actor=actor, format=filename.rsplit(".", 1)[1]
        )
    return filename, data, content_type


def _erasure_note(done, shredded: bool) -> str:
    """What an erasure did, for the request's log: "3 fiches supprimées, 1 archivée, …"."""
    deleted, archived, kept = (
        sum(done.deleted.values()),
        sum(done.archived.values()),
        sum(done.kept.values()),
    )
    return (
        f"Effacement : {deleted} fiche{plural(deleted)} supprimée{plural(deleted)}, "
        f"{archived} archivée{plural(archived)}, {kept} conservée{plural(kept)}"
        + (", clé détruite." if shredded else ".")
    )


# --- Rectification (GDPR art. 16, 19) --------------------------------------------------------
def requested_changes(request: RightsRequest) -> dict:
    """The values the person asked for, in clear (sealed ones decrypted), for staff."""
    person = person_of(request)
    return rectification.unseal_changes(person, request.details.get("changes", {}))


def _tell_recipients(request: RightsRequest, person, categories, *, cause, actor) -> list[str]:
    """GDPR art. 19: every organisation that received the person's data in ``categories`` gets
    a notice of their rectification or erasure (``recipients.notices``: by the API, the next
    exchange file or a letter); the labels of the recipients the person may be told of are
    returned for the answer."""
    recipients = rectification.recipients_of(person, categories)
    codes = sorted(c.code for c in categories)
    for recipient in recipients:
        audit.record(
            RightsTag.RECIPIENT_NOTIFY,
            actor=actor,
            subject=person,
            target=request,
            details={"recipient": recipient.code, "categories": codes},
        )
    recipient_notices.notify(
        subject_id=str(person.pk),
        categories=categories,
        cause=cause,
        source=f"rights.rightsrequest:{request.pk}",
        actor=actor,
    )
    if recipients:
        request.log(
            Action.RECIPIENTS,
            actor=actor,
            note=get_text_list([r.label for r in recipients], "et"),
        )
    return [r.label for r in recipients]


def apply_rectification(
    *, request: RightsRequest, changes: dict, actor, answer_now: bool = True
) -> RightsRequest:
    """Apply corrections (any rectifiable field: contact details, identity, NIR, scheme), tell
    the recipients that received the old values (art. 19) and, by default, answer.

    Raises :class:`RightsError` with the reason when a value is not valid.
    """
    unknown = set(changes) - set(rectification.RECTIFIABLE)
    if unknown:
        raise RightsError(f"Ces données ne se rectifient pas ici : {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        request = ready(request, Kind.RECTIFICATION)
        person = person_of(request)
        contact, identity = rectification.split(changes)
        try:
            changed = members.rectify_contact_details(person=person, changes=contact, actor=actor)
            changed += members.rectify_identity(person=person, changes=identity, actor=actor)
        except ValidationError as error:
            raise RightsError(" ".join(error.messages)) from None
        except members.NirAlreadyRegistered:
            raise RightsError(
                "Ce numéro de sécurité sociale est déjà enregistré : vérifiez-le."
            ) from None
        labels = [rectification.label(name) for name in changed]
        request.log(
            Action.WORK, actor=actor, note="Rectifié : " + (", ".join(labels) or "aucun changement")
        )
        audit_step(RightsTag.RECTIFICATION_APPLY, request, actor=actor, fields=sorted(changed))
        told = (
            _tell_recipients(
                request,
                person,
                rectification.categories_of(changed),
                cause=NoticeCause.RECTIFICATION,
                actor=actor,
            )
            if changed
            else []
        )
        if not answer_now:
            return request
        pending = {k for k in request.details.get("changes", {}) if k not in changes}
        text = (
            f"Nous avons rectifié : {get_text_list(labels, 'et')}."
            if labels
            else "Les données indiquées étaient déjà à jour : aucune modification n'a été "
            "nécessaire."
        )
        if told:
            text += (
                "\n\nCes données avaient été communiquées aux destinataires suivants, que nous "
                f"informons de la rectification (RGPD art. 19) : {get_text_list(told, 'et')}."
            )
        reasons = ""
        if pending:
            reasons = (
                "Nous n'avons pas pu rectifier : "
                + get_text_list([rectification.label(n) for n in sorted(pending)], "et")
                + ", faute de justificatif établissant la valeur exacte."
            )
        return answer(
            request=request,
            outcome=Outcome.PARTIAL if pending else Outcome.GRANTED,
            text=text,
            reasons=reasons,
            actor=actor,
        )


def handle_rectification(*, request: RightsRequest, actor=None) -> RightsRequest:
    """Contact details are corrected at once; identity and administrative data wait for staff
    to check the evidence (:func:`apply_rectification`)."""
    with transaction.atomic():
        request = ready(request, Kind.RECTIFICATION)
        wanted = requested_changes(request)
        contact, identity = rectification.split(wanted)
        if not identity:
            return apply_rectification(request=request, changes=contact, actor=actor)
        if contact:
            apply_rectification(request=request, changes=contact, actor=actor, answer_now=False)
        request.log(
            Action.NOTE,
            actor=actor,
            note="À vérifier par le service : "
            + ", ".join(rectification.label(n) for n in sorted(identity))
            + " (justificatif à contrôler avant rectification).",
        )
        return request


# --- Erasure (GDPR art. 17) ------------------------------------------------------------------
def _erasure_text(plan: erasure.Plan) -> tuple[str, str]:
    lines = []
    if plan.erased:
        lines.append("Nous avons effacé :")
        lines += [f"- {g.title} : {', '.join(g.fields)}" for g in plan.erased]
    else:
        lines.append("Aucune donnée n'a pu être effacée à ce stade.")
    if plan.account_closes:
        lines.append("\nVotre compte de l'espace adhérent est fermé.")
    if plan.nothing_remains:
        lines.append(
            "\nPlus aucune donnée ne vous concerne dans nos fichiers : la clé de chiffrement "
            "propre à votre dossier a été détruite, ce qui rend vos données illisibles partout, "
            "sauvegardes comprises."
        )
    lines.append(
        "\nNous conservons la trace de votre demande et de notre réponse, 5 ans après sa "
        "clôture (RGPD art. 5(2))."
    )
    kept = [g for g in plan.kept if not g.why.startswith("RGPD art. 5(2)")]
    reasons = []
    for group in kept:
        until = f", jusqu'au {group.until_label}" if group.until else ""
        reasons.append(f"- {group.title} ({', '.join(group.fields)}) : {group.why}{until}.")
    if kept and not plan.running_contracts:
        reasons.append(
            "Ces données sont placées en archive à accès restreint : elles ne sont plus "
            "utilisées, seulement conservées, puis supprimées à la date indiquée."
        )
    return "\n".join(lines), "\n".join(reasons)


def handle_erasure(*, request: RightsRequest, actor=None) -> RightsRequest:
    """Right to erasure (GDPR art. 17), carried out at once from the declaration.

    Consents are withdrawn first (art. 17(1)(b)); what nothing obliges to keep is erased; what
    the law keeps is archived, restricted to storage, and the answer says what, why and until
    when; with nothing left, the person's key is shredded. A running contract keeps what it
    needs (the answer explains how to end it).
    """
    with transaction.atomic():
        request = ready(request, Kind.ERASURE)
        person = person_of(request)
        consent.withdraw_all(person=person, source=SOURCE, actor=actor)
        plan = erasure.plan(person)
        # Where to answer, before contact details go (kept with the request as its proof).
        if not request.requester_email or not request.requester_name:
            request.requester_email = request.requester_email or person.email
            request.requester_name = request.requester_name or person.full_name
            request.save(update_fields=["requester_email", "requester_name"])
        told = _tell_recipients(
            request, person, erasure.erased_categories(plan), cause=NoticeCause.ERASURE, actor=actor
        )
        account = erasure.account_of(person)
        if plan.account_closes and account is not None:
            members.close_account(account=account, actor=actor, reason="erasure")
        done = erasure.carry_out(plan)
        shredded = False
        if plan.nothing_remains and erasure.person_is_unreferenced(
            person, ignoring=("rights_requests",)
        ):
            _shred_person(person)
            shredded = True
        elif plan.partial and not plan.running_contracts:
            restrictions.start(
                subject=person,
                purpose=restrictions.ALL_PURPOSES,
                ground=RestrictionGround.ERASURE_KEPT,
                reason="Effacement demandé : données conservées pour une obligation légale, "
                "usage limité à leur conservation.",
                actor=actor,
                source=f"rights.rightsrequest:{request.pk}",
            )
        request.log(
            Action.WORK,
            actor=actor,
            note=_erasure_note(done, shredded),
        )
        audit_step(
            RightsTag.ERASURE_APPLY,
            request,
            actor=actor,
            deleted=dict(done.deleted),
            cleared=done.cleared,
            archived=dict(done.archived),
            kept=dict(done.kept),
            shredded=shredded,
        )
        text, reasons = _erasure_text(plan)
        if told:
            text += (
                "\n\nCes données avaient été communiquées aux destinataires suivants, que nous "
                f"informons de leur effacement (RGPD art. 19) : {get_text_list(told, 'et')}."
            )
        if plan.running_contracts:
            reasons += (
                "\nPour que ces données soient à leur tour effacées, votre contrat doit d'abord "
                "prendre fin (résiliation) ; elles seront alors archivées puis supprimées au "
                "terme des durées légales."
            )
        request.refresh_from_db()
        return answer(
            request=request,
            outcome=Outcome.PARTIAL if plan.partial else Outcome.GRANTED,
            text=text,
            reasons=reasons.strip() if plan.partial else "",
            actor=actor,
        )


def _shred_person(person) -> None:
    """Crypto-shred the person and delete what is left (as the retention sweep does)."""
    RightsRequest.objects.filter(person=person).update(person=None)
    key_id = person.data_key_id
    vault.shred(person)
    type(person)._base_manager.filter(pk=person.pk).delete()
    DataKey.objects.filter(pk=key_id).delete()


def erasure_preview(person) -> erasure.Plan:
    """What an erasure would erase and keep now, and why (the member-space confirmation)."""
    return erasure.plan(person)
