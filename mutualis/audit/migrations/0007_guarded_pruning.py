"""Pruning without a way around the triggers: the database itself checks what may go.

Before: the triggers let any DELETE through once a session had run
``SET LOCAL mutualis.audit_prune = 'on'``, which any session could do. After, on PostgreSQL:

- events and links: ``UPDATE`` is refused, always;
- ``DELETE`` of an event is refused unless the event is placed at or before the checkpoint
  (so a pending event, or one of the verified chain, can never be deleted); ``DELETE`` of a link
  is refused unless it is at or before the checkpoint and its event is already gone;
- the chain head (``audit_chainhead``) is never deleted; its end moves only forward, to a link
  of the chain; its watermark only rises, never past an event without a link nor past the ids
  drawn; its checkpoint moves only forward, to a link of the chain, and only beside a pruning
  event not yet placed (``audit:chain:prune``) that names it.

The last rule ties every move of the checkpoint to an event after it, whose MAC ``audit_verify``
checks: the application writes a valid one, a session without the audit key can only write one
that ``audit_verify`` names. ``mutualis.audit.services.prune`` records its event first, then
moves the checkpoint, then deletes the events, then their links. The setting is not read any
more.
"""

from django.db import migrations

FORWARD = [
    # UPDATE: never, on events and links (the former function, without the setting).
    """
    CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit records are append-only';
    END;
    $$
    """,
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    "DROP TRIGGER IF EXISTS audit_chainlink_append_only ON audit_chainlink",
    """
    CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
    """,
    """
    CREATE TRIGGER audit_chainlink_append_only BEFORE UPDATE ON audit_chainlink
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
    """,
    # DELETE of events: only those placed at or before the checkpoint.
    """
    CREATE OR REPLACE FUNCTION audit_event_pruned_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM gone g
            WHERE NOT EXISTS (
                SELECT 1 FROM audit_chainlink l JOIN audit_chainhead h ON h.id = 1
                WHERE l.event_id = g.id AND l.seq <= h.checkpoint_seq
            )
        ) THEN
            RAISE EXCEPTION 'audit records are append-only: only events placed at or before '
                'the checkpoint may be deleted (pruning)';
        END IF;
        RETURN NULL;
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_event_pruned_only AFTER DELETE ON audit_event
        REFERENCING OLD TABLE AS gone
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_pruned_only()
    """,
    # DELETE of links: only at or before the checkpoint, their events already gone.
    """
    CREATE OR REPLACE FUNCTION audit_chainlink_pruned_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM gone g
            WHERE g.seq > COALESCE(
                    (SELECT checkpoint_seq FROM audit_chainhead WHERE id = 1), 0)
               OR EXISTS (SELECT 1 FROM audit_event e WHERE e.id = g.event_id)
        ) THEN
            RAISE EXCEPTION 'audit records are append-only: only links at or before the '
                'checkpoint, whose events are gone, may be deleted (pruning)';
        END IF;
        RETURN NULL;
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_chainlink_pruned_only AFTER DELETE ON audit_chainlink
        REFERENCING OLD TABLE AS gone
        FOR EACH STATEMENT EXECUTE FUNCTION audit_chainlink_pruned_only()
    """,
    # The chain head: moves only along the chain, forward.
    """
    CREATE OR REPLACE FUNCTION audit_chainhead_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit chain head: it is never deleted';
        END IF;
        IF NEW.id IS DISTINCT FROM OLD.id THEN
            RAISE EXCEPTION 'audit chain head: it is one row, never renumbered';
        END IF;
        IF (NEW.last_seq, NEW.last_hash) IS DISTINCT FROM (OLD.last_seq, OLD.last_hash)
           AND (NEW.last_seq <= OLD.last_seq OR NOT EXISTS (
                SELECT 1 FROM audit_chainlink WHERE seq = NEW.last_seq AND hash = NEW.last_hash))
        THEN
            RAISE EXCEPTION 'audit chain head: its end moves only forward, to a link of the chain';
        END IF;
        IF NEW.watermark IS DISTINCT FROM OLD.watermark AND (
            NEW.watermark < OLD.watermark
            OR NEW.watermark > GREATEST(
                COALESCE(pg_sequence_last_value(
                    pg_get_serial_sequence('audit_event', 'id')::regclass), 0),
                COALESCE((SELECT MAX(id) FROM audit_event), 0))
            OR EXISTS (
                SELECT 1 FROM audit_event e
                WHERE e.id > OLD.watermark AND e.id <= NEW.watermark
                  AND NOT EXISTS (SELECT 1 FROM audit_chainlink l WHERE l.event_id = e.id)))
        THEN
            RAISE EXCEPTION 'audit chain head: its watermark only rises, over placed events';
        END IF;
        IF (NEW.checkpoint_seq, NEW.checkpoint_hash)
               IS DISTINCT FROM (OLD.checkpoint_seq, OLD.checkpoint_hash)
           AND (NEW.checkpoint_seq <= OLD.checkpoint_seq
                OR NEW.checkpoint_seq > NEW.last_seq
                OR NOT EXISTS (
                    SELECT 1 FROM audit_chainlink
                    WHERE seq = NEW.checkpoint_seq AND hash = NEW.checkpoint_hash)
                OR NOT EXISTS (
                    SELECT 1 FROM audit_event e
                    WHERE e.id > NEW.watermark
                      AND e.tag = 'audit:chain:prune'
                      AND e.details ->> 'to_seq' = NEW.checkpoint_seq::text
                      AND e.details ->> 'checkpoint_hash' = NEW.checkpoint_hash
                      AND NOT EXISTS (
                          SELECT 1 FROM audit_chainlink l WHERE l.event_id = e.id)))
        THEN
            RAISE EXCEPTION 'audit chain head: its checkpoint moves only forward, to a link of '
                'the chain, beside the pruning event that names it';
        END IF;
        RETURN NEW;
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_chainhead_guard BEFORE UPDATE OR DELETE ON audit_chainhead
        FOR EACH ROW EXECUTE FUNCTION audit_chainhead_guard()
    """,
]

# Back to migration 0006's triggers (the setting let DELETE through).
BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_chainhead_guard ON audit_chainhead",
    "DROP TRIGGER IF EXISTS audit_chainlink_pruned_only ON audit_chainlink",
    "DROP TRIGGER IF EXISTS audit_event_pruned_only ON audit_event",
    "DROP FUNCTION IF EXISTS audit_chainhead_guard()",
    "DROP FUNCTION IF EXISTS audit_chainlink_pruned_only()",
    "DROP FUNCTION IF EXISTS audit_event_pruned_only()",
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    "DROP TRIGGER IF EXISTS audit_chainlink_append_only ON audit_chainlink",
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


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_sequenced_chain")]

    operations = [
        migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD)),
    ]
