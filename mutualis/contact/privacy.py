import datetime
from pathlib import Path

from django.utils import timezone

from mutualis.lib.french import plural
from mutualis.privacy import catalogue as c
from mutualis.privacy import promises
from mutualis.privacy.declaration import personal
from mutualis.privacy.registry import declare

_INQ = [c.INQUIRIES, c.COMPLAINTS]

declare(
    "contact.Inquiry",
    fields={
        "subject": personal(c.CORRESPONDENCE, _INQ, provided=True),
        "person": personal(c.IDENTITY, _INQ, provided=False),
        "contact_name": personal(c.IDENTITY, _INQ, provided=True),
        "contact_email": personal(c.CONTACT, _INQ, provided=True),
        "contact_phone": personal(c.CONTACT, _INQ, provided=True),
        "contact_address": personal(c.CONTACT, _INQ, provided=True),
        "received_at": personal(c.CORRESPONDENCE, _INQ, provided=False),
        "last_contact_at": personal(c.CORRESPONDENCE, _INQ, provided=False),
        "closed_at": personal(c.CORRESPONDENCE, _INQ, provided=False),
    },
    not_personal=["id", "reference", "channel", "service", "status", "answer_due"],
    purpose=c.INQUIRIES,
    retention_anchor="last_contact_at",
    subject_field="person",
    # A thread qualified as a complaint follows the complaint's (longer) rule.
    retention_scope={"complaint__isnull": True},
)

declare(
    "contact.Message",
    fields={
        "body": personal(c.CORRESPONDENCE, _INQ, provided=True),
        "sender": personal(c.CONTACT, _INQ, provided=True),
        "at": personal(c.CORRESPONDENCE, _INQ, provided=False),
        "author": personal(c.CORRESPONDENCE, _INQ, provided=False),
    },
    not_personal=["id", "inquiry", "direction", "channel", "source_id", "content_erased_at"],
    purpose=c.INQUIRIES,
    retention_anchor="at",
    subject_field="inquiry__person",
    # E-mails received: content erased after 3 months, a trace stays; other messages go with
    # their thread.
    retention=c.RETENTION_INBOUND_EMAIL,
    retention_scope={"channel": "email", "direction": "in"},
    anonymised_field="content_erased_at",
)

declare(
    "contact.Attachment",
    fields={
        "filename": personal(c.CORRESPONDENCE, _INQ, provided=True),
        "content": personal(c.CORRESPONDENCE, _INQ, provided=True),
    },
    not_personal=["id", "message", "content_type", "size"],
    purpose=c.INQUIRIES,
    retention_anchor="message__at",
    subject_field="message__inquiry__person",
    retention=c.RETENTION_INBOUND_EMAIL_FILES,
    retention_scope={"message__channel": "email", "message__direction": "in"},
)

declare(
    "contact.Complaint",
    fields={
        "received_on": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "complainant_type": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "product": personal(c.COMPLAINT, [c.COMPLAINTS], provided=True),
        "reason": personal(c.COMPLAINT, [c.COMPLAINTS], provided=True),
        "outcome": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "mediation": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "root_cause": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "acknowledged_at": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "answered_at": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "closed_at": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "qualified_at": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "qualified_by": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
    },
    not_personal=["inquiry", "acknowledgement_due", "answer_due", "archived_at"],
    purpose=c.COMPLAINTS,
    retention_anchor="closed_at",
    subject_field="inquiry__person",
)


@promises.register("T3", section="7", title="Réclamations traitées dans les délais de l'ACPR")
def complaints_within_deadline(now) -> promises.Finding:
    """Every complaint is acknowledged and answered within its ACPR deadline (2022-R-01)."""
    from mutualis.contact.models import Complaint

    today = timezone.localdate(now)
    checks = [
        ("acknowledged_at", "acknowledgement_due", "sans accusé de réception"),
        ("answered_at", "answer_due", "sans réponse"),
    ]
    breaches = []
    for done, due, what in checks:
        late = Complaint.objects.filter(**{f"{done}__isnull": True, f"{due}__lt": today})
        for reference, deadline in late.values_list("inquiry__reference", due):
            breaches.append(f"{reference} {what} au {deadline:%d/%m/%Y}")
    return promises.Finding(Complaint.objects.count(), breaches)


@promises.register("T1", section="II", title="Courriels reçus : 3 mois au plus, copies comprises")
def emails_kept_three_months_at_most(now) -> promises.Finding:
    """No e-mail body outlives three months anywhere: the declared rules add up (database rule +
    backup retention), no body or attachment is past its rule, nothing waits in the mailbox
    longer than a day, no backup is older than its retention."""
    from django.conf import settings

    from mutualis.contact import mailbox
    from mutualis.lib.dates import add_months
    from mutualis.privacy import retention
    from mutualis.privacy.promise_checks import EMAIL_RULES, stage_breaches
    from mutualis.vault import pruning

    checked, breaches = 0, []
    promise = c.INBOUND_EMAIL_PROMISE
    start = timezone.localdate(now)
    for rule in EMAIL_RULES:
        last_copy = add_months(start, rule.active.months) + datetime.timedelta(
            days=rule.active.days + c.RETENTION_BACKUPS.days
        )
        if last_copy > add_months(start, promise.months):
            breaches.append(
                f"déclaration : {rule.active.label} en base et {c.RETENTION_BACKUPS.label} de "
                f"sauvegarde dépassent les {promise.label} promis"
            )
    for target in retention.targets():
        if target.rule in EMAIL_RULES:
            rows, lines = stage_breaches(target, now)
            checked += rows
            breaches += lines
    if settings.MUTUALIS_IMAP.get("host"):
        try:
            with mailbox.connect(settings.MUTUALIS_IMAP) as box:
                waiting = box.count_older_than(now - mailbox.MAILBOX_GRACE)
        except mailbox.MailboxError as exc:
            breaches.append(f"boîte de réception : {exc}")
        else:
            checked += 1
            if waiting:
                breaches.append(
                    f"boîte de réception : {waiting} message{plural(waiting)} "
                    f"reçu{plural(waiting)} depuis plus d'un jour et non "
                    f"relevé{plural(waiting)} (manage.py fetch_mail)"
                )
    if settings.MUTUALIS_BACKUP_DIR:
        directory = Path(settings.MUTUALIS_BACKUP_DIR)
        if not directory.is_dir():
            breaches.append(f"sauvegardes : dossier introuvable ({directory})")
        else:
            files = pruning.backup_files(directory)
            checked += len(files)
            old = pruning.expired(directory, now)
            if old:
                breaches.append(
                    f"sauvegardes : {len(old)} fichier{plural(len(old))} de plus de "
                    f"{c.RETENTION_BACKUPS.label} "
                    f"({', '.join(b.path.name for b in old[:5])}) — manage.py prune_backups"
                )
    return promises.Finding(checked, breaches)
