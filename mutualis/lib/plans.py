"""The plan PostgreSQL makes for a queryset, with whole-table reads priced out (for tests).

A test database is small, so the planner would rightly read its tables whole: sequential scans
and whole-index reads are priced out (``enable_seqscan``, ``enable_indexscan = off``), which
leaves bitmap lookups, and a scan only where no index can serve the query. Tests then check the
plan names the index they expect and no whole-table read.
"""

from __future__ import annotations

from django.db import connection, transaction


def lookup_plan(queryset) -> str:
    """``EXPLAIN`` of ``queryset`` with sequential scans and whole-index reads priced out."""
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        # A whole index read with a filter is a scan too: only index lookups are left.
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())
