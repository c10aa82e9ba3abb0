import datetime

import pytest
from django.db import transaction

from mutualis.audit.bulk import BulkEvent, write_events
from mutualis.audit.models import ChainHead, Event
from mutualis.audit.sequencer import sequence_all
from mutualis.audit.services import record
from mutualis.audit.tests.conftest import SampleTag
from mutualis.audit.verify import verify_chain

pytestmark = pytest.mark.django_db

AT = datetime.datetime(2026, 6, 1, 8, 30, 15, 123456, tzinfo=datetime.UTC)


def _events(n: int):
    for i in range(n):
        yield BulkEvent(
            at=AT + datetime.timedelta(seconds=i),
            tag="members:member:update",
            actor=f"staff:{i % 3}",
            subject_id=f"{1000 + i}",
            details={"fields": ["email"], "n": i, "é": "€"},
        )


def test_bulk_history_is_what_record_and_the_sequencer_would_have_written(chain):
    chain(2, placed=False)  # written the ordinary way, not placed yet: placed first
    assert write_events(_events(25), chunk=10) == 25

    result = verify_chain()
    assert result.ok, result.first_break
    assert result.checked == 27
    head = ChainHead.objects.get()
    assert head.last_seq == 27 and head.watermark == Event.objects.order_by("-id").first().pk
    assert Event.objects.get(subject_id="1007").details == {"fields": ["email"], "n": 7, "é": "€"}


def test_the_chain_goes_on_after_bulk_history():
    write_events(_events(5))
    with transaction.atomic():
        event = record(SampleTag.REPORT_READ)
    assert sequence_all() == 1
    assert Event.objects.get(pk=event.pk).seq == 6
    assert verify_chain().ok
