"""Realistic members in bulk, for development databases and benchmarks (``generate_members``).

People with their own data keys (values encrypted exactly as the models do, blind indexes
included), members, beneficiaries, contracts, SEPA mandates, correspondence with a few
complaints, consent choices, rights requests and the audit history of it all, written in bulk
(``executemany`` on SQLite, ``COPY`` on PostgreSQL). Never a path of the product: the command
refuses to run on a production configuration.

Each chunk of :data:`CHUNK` members is one transaction: whole (its people, their records, their
audit events placed in the chain) or absent. An interrupted run keeps the chunks it committed.
One transaction for the whole run would hold the chain head for its length and, on SQLite, grow
the write-ahead log to the size of the database (it cannot be checkpointed before the commit),
every page lookup slower as it grows.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from django.db import connection, transaction

from mutualis.generate.members import MemberBuilder
from mutualis.generate.writer import Writer

CHUNK = 2000  # members per transaction


def generate(
    members: int,
    *,
    seed: int = 20261120,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Add ``members`` generated members; returns the number of rows written per table."""
    from mutualis.contracts.testing import ensure_offers
    from mutualis.privacy.policy import publish

    ensure_offers()
    publish()
    writer = Writer()
    builder = MemberBuilder(writer, random.Random(seed))  # noqa: S311 (fictitious data)
    for start in range(0, members, CHUNK):
        end = min(start + CHUNK, members)
        with transaction.atomic():
            builder.begin()
            for _ in range(start, end):
                builder.member()
            builder.close()
        if progress is not None:
            progress(end)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return writer.counts
