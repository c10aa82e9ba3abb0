"""Let the one audited pruning path through the append-only trigger.

``mutualis.audit.services.prune`` sets ``mutualis.audit_prune`` for its own transaction only
(``SET LOCAL``) before deleting the oldest events; every other UPDATE or DELETE is still refused.
"""

from django.db import migrations

ALLOW_PRUNE = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('mutualis.audit_prune', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only';
END;
$$
"""

REFUSE_ALL = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [
        migrations.RunPython(_on_postgresql(ALLOW_PRUNE), _on_postgresql(REFUSE_ALL)),
    ]
