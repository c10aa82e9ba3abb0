"""For tests of :mod:`mutualis.lib.prepared`'s users: which queries the ORM still writes."""

from __future__ import annotations

from django.db.models.sql.compiler import SQLCompiler


def written_queries(monkeypatch) -> list[str]:
    """A list that receives the model (``app.Model``) of each query the ORM writes (compiles)
    from now on, until the test ends (``monkeypatch``: pytest's fixture)."""
    written: list[str] = []
    as_sql = SQLCompiler.as_sql

    def recording(self, *args, **kwargs):
        written.append(self.query.model._meta.label)
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", recording)
    return written
