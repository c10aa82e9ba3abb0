"""On PostgreSQL, refuse UPDATE and DELETE on audit events at the database level.

The hash chain detects any change; the trigger stops accidental ones (a stray ``UPDATE`` in a
shell, a cascade) before they happen. Only the table owner can disable it. TRUNCATE is not
refused: the test runner empties tables with TRUNCATE between transactional tests.
"""

from django.db import migrations

CREATE = [
    """
    CREATE FUNCTION audit_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit events are append-only';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_event_append_only
        BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
    """,
]

DROP = [
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
