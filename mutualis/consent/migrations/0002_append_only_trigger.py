"""On PostgreSQL, refuse UPDATE on consent events at the database level.

A consent event is proof (GDPR art. 7(1)): a change of mind is a new row, never an edit. DELETE
stays possible: events go with their person (erasure, retention), through the cascade.
"""

from django.db import migrations

CREATE = [
    """
    CREATE FUNCTION consent_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'consent events are append-only';
    END;
    $$
    """,
    """
    CREATE TRIGGER consent_event_append_only
        BEFORE UPDATE ON consent_consentevent
        FOR EACH STATEMENT EXECUTE FUNCTION consent_event_append_only()
    """,
]

DROP = [
    "DROP TRIGGER IF EXISTS consent_event_append_only ON consent_consentevent",
    "DROP FUNCTION IF EXISTS consent_event_append_only()",
]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
