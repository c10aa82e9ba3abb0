"""PostgreSQL: indexes for the back office's search by name and e-mail.

The search matches parts of names (``icontains``, that is ``UPPER(col) LIKE UPPER('%…%')``): a
B-tree cannot serve it, a GIN index of trigrams (``pg_trgm``) can, on the same expression. A word
of fewer than three letters has no trigram: it is matched as a whole name (``iexact``), served by
a B-tree on ``UPPER(col)``. On SQLite, nothing is created (development databases are small).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

COLUMNS = ("last_name", "first_names", "email")
WHOLE_NAMES = ("last_name", "first_names")


def _sql(create: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in COLUMNS:
            name = f"members_person_{column}_trgm"
            if create:
                schema_editor.execute(
                    f"CREATE INDEX IF NOT EXISTS {name} ON members_person "
                    f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
                )
            else:
                schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        for column in WHOLE_NAMES:
            name = f"members_person_{column}_upper"
            if create:
                schema_editor.execute(
                    f"CREATE INDEX IF NOT EXISTS {name} ON members_person (UPPER({column}::text))"
                )
            else:
                schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return run


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(_sql(True), _sql(False)),
    ]
