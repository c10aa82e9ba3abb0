"""Realistic members in bulk, for development databases and benchmarks (``generate_members``).

People with their own data keys (values encrypted exactly as the models do, blind indexes
included), members, beneficiaries, contracts, SEPA mandates, correspondence with a few
complaints, consent choices, rights requests and the audit history of it all, written in bulk
(``executemany`` on SQLite, ``COPY`` on PostgreSQL). Never a path of the product: the command
refuses to run on a production configuration.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from django.db import connection, transaction

from mutualis.generate.members import MemberBuilder
from mutualis.generate.writer import Writer

FLUSH_EVERY = 2000


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
    with transaction.atomic():
        builder = MemberBuilder(writer, random.Random(seed))  # noqa: S311 (fictitious data)
        for i in range(members):
            builder.member()
            if (i + 1) % FLUSH_EVERY == 0:
                builder.flush()
                if progress is not None:
                    progress(i + 1)
        builder.close()
    if progress is not None:
        progress(members)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return writer.counts
