"""Writers stop waiting for one another: events are signed and queued, a sequencer chains them.

Before: each event carried its ``seq``, ``prev_hash`` and ``hash``, and every writer locked the
chain head until its transaction ended. After: an event carries a random ``uid`` and a keyed MAC
(``mac``) from the moment it is written, and the sequencer gives it a ``ChainLink`` (its number
and the link hash) after commit; the head's watermark says up to which id every event is placed.

The existing chain is verified in its old form, then carried over in order: each event keeps its
number, gets a uid and a MAC under the current audit key, and a link of the new form; the new
chain starts from the old checkpoint. The result of the old verification and the old head are
written to an ``audit:chain:migrate`` event, so the conversion itself is on the record.
"""

import hashlib
import json
import uuid
from datetime import UTC

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

PG_TRIGGERS = [
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    # Events and links: no UPDATE ever; DELETE only by the audited pruning path.
    """
    CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND current_setting('mutualis.audit_prune', true) = 'on' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'audit records are append-only';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
    """,
    """
    CREATE TRIGGER audit_chainlink_append_only BEFORE UPDATE OR DELETE ON audit_chainlink
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
    """,
]
PG_TRIGGERS_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_chainlink_append_only ON audit_chainlink",
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


def _old_hash(event) -> str:
    """The hash of the former chain, as it was computed (sorted keys, json module)."""
    payload = {
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "tag": event.tag,
        "subject_id": event.subject_id,
        "target": event.target,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def carry_over(apps, schema_editor):
    from django.utils import timezone

    from mutualis.audit.keys import audit_key_ring
    from mutualis.audit.models import canonical_content, link_hash

    Event = apps.get_model("audit", "Event")
    ChainLink = apps.get_model("audit", "ChainLink")
    ChainHead = apps.get_model("audit", "ChainHead")
    db = schema_editor.connection.alias
    head = ChainHead.objects.using(db).filter(pk=1).first()
    events = Event.objects.using(db).order_by("seq")
    if head is None and not events.exists():
        return
    keys = audit_key_ring()
    checkpoint_seq = head.checkpoint_seq if head else 0
    checkpoint_hash = head.checkpoint_hash if head else "0" * 64
    old_prev, old_break = checkpoint_hash, ""
    prev, last_seq = checkpoint_hash, checkpoint_seq
    expected = checkpoint_seq + 1
    batch_events, batch_links = [], []

    def flush():
        Event.objects.using(db).bulk_update(batch_events, ["uid", "mac"], batch_size=1000)
        ChainLink.objects.using(db).bulk_create(batch_links, batch_size=1000)
        batch_events.clear()
        batch_links.clear()

    for event in events.iterator(chunk_size=2000):
        if not old_break and (
            event.seq != expected or event.prev_hash != old_prev or _old_hash(event) != event.hash
        ):
            old_break = f"rupture à l'événement n° {event.seq}"
        old_prev, expected = event.hash, event.seq + 1
        event.uid = uuid.uuid4()
        content = canonical_content(
            uid=event.uid,
            at=event.at,
            actor=event.actor,
            tag=event.tag,
            subject_id=event.subject_id,
            target=event.target,
            details=event.details,
        )
        event.mac = keys.sign(content)
        prev = link_hash(
            seq=event.seq, event_id=event.pk, prev_hash=prev, mac=event.mac, content=content
        )
        last_seq = event.seq
        batch_events.append(event)
        batch_links.append(ChainLink(seq=event.seq, event_id=event.pk, hash=prev))
        if len(batch_events) >= 2000:
            flush()
    if head is not None and not old_break and old_prev != head.last_hash:
        old_break = "la tête de chaîne ne correspond pas au dernier événement"
    flush()

    # The conversion's own event, placed at once as the next link.
    uid = uuid.uuid4()
    at = timezone.now()
    details = {
        "former_head_seq": head.last_seq if head else last_seq,
        "former_head_hash": head.last_hash if head else old_prev,
        "former_chain": old_break or "intacte",
    }
    fields = dict(actor="system", tag="audit:chain:migrate", subject_id="", target="")
    content = canonical_content(uid=uid, at=at, details=details, **fields)
    mac = keys.sign(content)
    own = Event.objects.using(db).create(
        seq=last_seq + 1, uid=uid, at=at, mac=mac, details=details, prev_hash="0" * 64,
        hash="0" * 64, **fields,
    )
    last_seq += 1
    prev = link_hash(seq=last_seq, event_id=own.pk, prev_hash=prev, mac=mac, content=content)
    ChainLink.objects.using(db).create(seq=last_seq, event_id=own.pk, hash=prev)
    if schema_editor.connection.vendor == "postgresql":
        # Check the new links' foreign keys now, so that the table changes that follow may run
        # in this transaction (PostgreSQL refuses ALTER TABLE with pending trigger events).
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)
    ChainHead.objects.using(db).update_or_create(
        pk=1,
        defaults={
            "last_seq": last_seq,
            "last_hash": prev,
            "checkpoint_seq": checkpoint_seq,
            "checkpoint_hash": checkpoint_hash,
            "watermark": own.pk,  # every event written so far is placed
            "horizon_id": None,
            "horizon_xmax": None,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_security_event")]

    operations = [
        migrations.RunPython(
            _on_postgresql(["DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event"]),
            _on_postgresql(
                [
                    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON "
                    "audit_event FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
                ]
            ),
        ),
        migrations.AddField(
            model_name="event",
            name="uid",
            field=models.UUIDField(null=True, editable=False, verbose_name="identifiant unique"),
        ),
        migrations.AddField(
            model_name="event",
            name="mac",
            field=models.CharField(
                default="", max_length=81, verbose_name="code d'authentification"
            ),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="ChainLink",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False, verbose_name="numéro d'ordre")),
                (
                    "hash",
                    models.CharField(
                        max_length=64,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[0-9a-f]{64}$",
                                "Empreinte SHA-256 attendue (64 caractères hexadécimaux).",
                            )
                        ],
                        verbose_name="empreinte",
                    ),
                ),
                (
                    "event",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="link",
                        to="audit.event",
                    ),
                ),
            ],
            options={"verbose_name": "maillon de la chaîne d'audit", "ordering": ["seq"]},
        ),
        migrations.AddField(
            model_name="chainhead",
            name="watermark",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="chainhead",
            name="horizon_id",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="chainhead",
            name="horizon_xmax",
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="event",
            name="uid",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="identifiant unique"
            ),
        ),
        migrations.RemoveField(model_name="event", name="seq"),
        migrations.RemoveField(model_name="event", name="prev_hash"),
        migrations.RemoveField(model_name="event", name="hash"),
        migrations.AlterModelOptions(
            name="event",
            options={
                "ordering": ["id"],
                "verbose_name": "événement d'audit",
                "verbose_name_plural": "événements d'audit",
            },
        ),
        migrations.RunPython(_on_postgresql(PG_TRIGGERS), _on_postgresql(PG_TRIGGERS_REVERSE)),
    ]
