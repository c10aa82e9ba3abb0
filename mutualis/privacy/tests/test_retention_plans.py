"""The retention engine's batches find their rows from an index that serves the rule: for the
inbound e-mails' rule (bodies anonymised, attachments deleted), its scope (channel, direction)
then its anchor (the date). With the date alone, each batch read nearly every message older than
the cut-off whatever its channel: on SQLite, 1.2 s a batch at 100,000 members, against 6 ms.
SQLite plans without statistics of the values, so its plans are checked here as they are;
PostgreSQL plans from its statistics, so there the tables first hold what makes the choice
matter (many old messages of other channels, a few inbound e-mails) and are analysed.
"""

from __future__ import annotations

import datetime
from datetime import UTC

import pytest
import time_machine
from django.db import connection

from mutualis.contact import services as contact
from mutualis.contact.models import Channel
from mutualis.lib.plans import lookup_plan
from mutualis.privacy import retention

pytestmark = pytest.mark.django_db

SCOPE_INDEX = "contact_msg_channel_dir_at"
NOW = datetime.datetime(2026, 11, 26, tzinfo=UTC)


def plan(queryset) -> str:
    if connection.vendor == "postgresql":
        return lookup_plan(queryset)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def first_batch(label: str):
    (target,) = [t for t in retention.targets("contact") if t.label == label]
    return next(retention._limit_batches(target.due_for_end(NOW), retention.BatchSize(5000)))


def with_statistics() -> None:
    """PostgreSQL: 5,000 old web-form messages and 5 old inbound e-mails, then ANALYZE (which
    samples the rows this test's transaction wrote)."""
    from mutualis.contact.models import Direction, Message

    inquiry = contact.open_inquiry(
        channel=Channel.WEB_FORM, subject="Q", body="x", contact_name="V"
    )
    old = datetime.datetime(2020, 1, 1, tzinfo=UTC)
    rows = [
        Message(inquiry=inquiry, direction=Direction.INBOUND, channel=Channel.WEB_FORM, at=old)
        for _ in range(5000)
    ]
    rows += [
        Message(inquiry=inquiry, direction=Direction.INBOUND, channel=Channel.EMAIL, at=old)
        for _ in range(5)
    ]
    Message.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contact_message")
        cursor.execute("ANALYZE contact_attachment")


@pytest.mark.parametrize("label", ["contact.Message", "contact.Attachment"])
def test_the_inbound_email_rule_reads_its_rows_from_the_scope_index(label):
    if connection.vendor == "postgresql":
        with_statistics()
    text = plan(first_batch(label))
    assert SCOPE_INDEX in text, text


def test_a_range_batch_enters_by_the_rules_index_not_by_its_key_range():
    """Inquiries are deleted in key ranges (their messages and attachments go with them, each
    statement seeing the same rows). After the first range, the bounds are filters: entering by
    them would read every inquiry of the range, due or not, for each statement of the batch."""
    for i in range(3):
        with time_machine.travel(datetime.datetime(2022, 1, 1 + i, 9, tzinfo=UTC), tick=False):
            contact.open_inquiry(
                channel=Channel.WEB_FORM, subject=f"Q{i}", body="x", contact_name=f"V{i}"
            )
    (target,) = [t for t in retention.targets("contact") if t.label == "contact.Inquiry"]
    batches = retention._range_batches(target.due_for_end(NOW), retention.BatchSize(1))
    next(batches)
    second = next(batches)
    assert second.count() == 1
    if connection.vendor == "sqlite":  # PostgreSQL chooses from its statistics of the table
        text = plan(second)
        assert "contact_inquiry_last_contact_at" in text, text
        assert "id>?" not in text.replace(" ", ""), text
