from __future__ import annotations

import enum
import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from mutualis import audit
from mutualis.audit.keys import audit_key_ring
from mutualis.audit.models import GENESIS_HASH, AppendOnlyError, ChainHead, ChainLink, Event
from mutualis.audit.sequencer import sequence, sequence_all
from mutualis.audit.services import PersonalDataInAuditEvent, TransactionRequired, record
from mutualis.audit.tests.conftest import SampleTag
from mutualis.audit.verify import verify_chain

NIR = "295109912611193"
IBAN = "FR7630006000011234567890189"


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_record_outside_a_transaction():
    with pytest.raises(TransactionRequired, match=r"transaction\.atomic"):
        record(SampleTag.MEMBER_UPDATE)
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_no_event_and_nothing_to_place():
    with pytest.raises(RuntimeError, match="write failed"), transaction.atomic():
        record(SampleTag.MEMBER_UPDATE, subject="42")
        raise RuntimeError("write failed")
    assert not Event.objects.exists()
    assert sequence() == 0

    with transaction.atomic():
        event = record(SampleTag.MEMBER_UPDATE, subject="42")
    assert sequence() == 1
    assert Event.objects.get(pk=event.pk).seq == 1


def test_an_event_waits_in_the_queue_until_the_sequencer_places_it(db):
    with transaction.atomic():
        event = record(SampleTag.MEMBER_UPDATE, subject="42")
    stored = Event.objects.get(pk=event.pk)
    assert stored.seq is None

    assert sequence() == 1
    stored = Event.objects.get(pk=event.pk)
    assert stored.seq == 1
    assert not Event.objects.filter(link__isnull=True).exists()


def test_events_are_chained_from_the_genesis_hash_in_the_order_they_are_placed(chain):
    first, second, third = chain(3)

    links = list(ChainLink.objects.order_by("seq"))
    assert [(link.seq, link.event_id) for link in links] == [
        (1, first.pk),
        (2, second.pk),
        (3, third.pk),
    ]
    assert len({link.hash for link in links}) == 3
    head = ChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (3, links[-1].hash)
    assert head.checkpoint_hash == GENESIS_HASH


def test_the_sequencer_places_in_batches_and_continues_the_chain(chain):
    chain(5, placed=False)
    assert sequence(batch_size=2) == 2
    assert sequence(batch_size=2) == 2
    assert sequence_all(batch_size=2) == 1
    assert list(ChainLink.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
    assert sequence() == 0


def test_a_following_sequencer_drains_a_backlog_at_once_and_pauses_after_a_partial_batch(
    chain, monkeypatch
):
    """Full batches follow one another without a pause; a batch that is not full (no backlog
    left) is followed by the pause at once, not by another pass, so that the next pass gathers
    what arrived meanwhile."""
    from django.core.management import call_command

    from mutualis.audit.management.commands import audit_sequence

    chain(5, placed=False)
    passes = []
    monkeypatch.setattr(
        audit_sequence, "sequence", lambda **kw: passes.append(sequence(**kw)) or passes[-1]
    )

    def pause(seconds):
        passes.append(("pause", seconds))
        raise KeyboardInterrupt  # the service is stopped during its first pause

    monkeypatch.setattr(audit_sequence.time, "sleep", pause)
    call_command("audit_sequence", "--follow", "--batch-size", "2", "--idle-seconds", "0.25")
    assert passes == [2, 2, 1, ("pause", 0.25)]
    assert ChainLink.objects.count() == 5


def test_run_once_the_sequencer_goes_on_until_nothing_is_left(chain, monkeypatch):
    from django.core.management import call_command

    from mutualis.audit.management.commands import audit_sequence

    chain(3, placed=False)
    passes = []
    monkeypatch.setattr(
        audit_sequence, "sequence", lambda **kw: passes.append(sequence(**kw)) or passes[-1]
    )
    call_command("audit_sequence", "--batch-size", "2", verbosity=0)
    assert passes == [2, 1, 0]


def test_the_event_is_signed_when_written_and_survives_a_database_round_trip(db):
    details = {
        "b": [1, True, None, "é € 😀", {"nested": -(2**53)}],
        "a": {"z": "", "y": 2**53, "«»": "\u202e"},
    }
    with transaction.atomic():
        event = record(SampleTag.MEMBER_UPDATE, subject="7", target="x:1", details=details)

    stored = Event.objects.get(pk=event.pk)
    assert (stored.uid, stored.at, stored.actor, stored.tag) == (
        event.uid,
        event.at,
        "system",
        SampleTag.MEMBER_UPDATE,
    )
    assert (stored.subject_id, stored.target, stored.details) == ("7", "x:1", details)
    assert stored.mac == event.mac
    assert audit_key_ring().verifies(stored.mac, stored.content()) is True


def test_it_names_actors_subjects_and_targets_by_id(alice, bob):
    subject = uuid.UUID("12345678-1234-5678-1234-567812345678")
    with transaction.atomic():
        by_user = record(SampleTag.MEMBER_UPDATE, actor=bob, subject=alice, target=alice)
        by_system = record(SampleTag.REPORT_READ, subject=subject, target="report:monthly")
        by_string = record("members:member:update", actor="staff:12", subject=7)

    assert (by_user.actor, by_user.subject_id, by_user.target) == (
        f"user:{bob.pk}",
        str(alice.pk),
        f"{alice._meta.label_lower}:{alice.pk}",
    )
    assert (by_system.actor, by_system.subject_id, by_system.target) == (
        "system",
        str(subject),
        "report:monthly",
    )
    assert (by_string.actor, by_string.subject_id, by_string.tag) == (
        "staff:12",
        "7",
        "members:member:update",
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"actor": "Alice Martin"},
        {"actor": "alice@example.org"},
        {"subject": "Martin, Alice"},
        {"subject": "x" * 65},
        {"target": "dossier de Mme Martin"},
    ],
)
def test_it_refuses_clear_text_where_an_id_is_expected(db, kwargs):
    with pytest.raises(ValueError, match="audit"), transaction.atomic():
        record(SampleTag.MEMBER_UPDATE, **kwargs)


@pytest.mark.parametrize("tag", ["members:update", "Members:member:update", "a:b:c:d", ""])
def test_it_refuses_a_malformed_tag(db, tag):
    with pytest.raises(ValueError, match="scope:resource:action"), transaction.atomic():
        record(tag)


@pytest.mark.parametrize(
    "details",
    [
        {"nir": NIR},
        {"nir": "2 95 10 99 126 111 93"},
        {"changes": [{"old": "x", "new": IBAN}]},
        {"iban": "FR76 3000 6000 0112 3456 7890 189"},
        {"note": f"le NIR {NIR} a été corrigé"},
        {"note": "IBAN FR76 3000 6000 0112 3456 7890 189 est faux"},
        {IBAN: "key"},
    ],
)
def test_it_refuses_a_nir_or_an_iban_in_details(db, details):
    with pytest.raises(PersonalDataInAuditEvent), transaction.atomic():
        record(SampleTag.MEMBER_UPDATE, details=details)
    assert not Event.objects.exists()


def test_it_refuses_a_nir_as_subject(db):
    with pytest.raises(PersonalDataInAuditEvent), transaction.atomic():
        record(SampleTag.MEMBER_UPDATE, subject=NIR)


def test_it_refuses_a_nir_in_the_actor_or_the_tag_every_time(db):
    # Tags and actors are checked once for each value and remembered: a refusal is not.
    for _ in range(2):
        with pytest.raises(PersonalDataInAuditEvent), transaction.atomic():
            record(SampleTag.MEMBER_UPDATE, actor=f"staff:{NIR}")
        with pytest.raises(PersonalDataInAuditEvent), transaction.atomic():
            record(f"members:{NIR}:update")
        with pytest.raises(ValueError, match="not an identifier"), transaction.atomic():
            record(SampleTag.MEMBER_UPDATE, actor="Staff 12")
    assert not Event.objects.exists()


def test_it_refuses_a_nir_or_an_iban_as_target(db):
    # Subjects and targets given as UUIDs (or instances keyed by one) are not scanned; strings are,
    # but for a model's label and a record id (letters and an id: neither can hold one).
    record_id = uuid.uuid4()
    for target in (
        f"members.person:{NIR}",
        f"bank:{IBAN}",
        f"{IBAN.lower()}.person:{record_id}",  # a "label" with digits is scanned
        f"members.person:{record_id}:{NIR}",
    ):
        with pytest.raises(PersonalDataInAuditEvent), transaction.atomic():
            record(SampleTag.MEMBER_UPDATE, subject=uuid.uuid4(), target=target)
    assert not Event.objects.exists()
    with transaction.atomic():
        event = record(SampleTag.MEMBER_UPDATE, target=f"members.person:{record_id}")
    assert event.target == f"members.person:{record_id}"


def test_it_accepts_numbers_that_only_look_like_a_nir_or_an_iban(db):
    details = {"reference": "295109912611194", "batch": "FR7630006000011234567890188"}
    with transaction.atomic():
        event = record(SampleTag.MEMBER_UPDATE, details=details)
    assert event.details == details


def test_record_ids_that_contain_an_iban_shaped_run_are_accepted(db):
    # "de64-4169-8478-7123373014e4" without its hyphens is a valid German IBAN: about two random
    # UUIDs in a million are like this one. Ids are ids, and an IBAN next to one is still seen.
    member = "a68c3dcb-de64-4169-8478-7123373014e4"
    with transaction.atomic():
        event = record(
            SampleTag.MEMBER_UPDATE,
            subject=member,
            details={"members": [member, uuid.UUID(member).hex.upper()]},
        )
    assert event.details["members"][0] == member
    with pytest.raises(PersonalDataInAuditEvent), transaction.atomic():
        record(SampleTag.MEMBER_UPDATE, details={"note": f"{member} {IBAN}"})


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"amount": 12.5}, "floats"),
        ({"when": uuid.uuid4()}, "not JSON"),
        ({1: "x"}, "keys must be strings"),
        ({"text": "a\x00b"}, "NUL"),
        ({"big": 2**53 + 1}, "2\\*\\*53"),
        ({"text": "\ud800"}, "not valid Unicode"),
        ({"a": {"b\x00": 1}}, "NUL"),
        ({"a": [{2: "x"}]}, "keys must be strings"),
        ({"\ud800": 1}, "not valid Unicode"),
        ({"a": [1, 2**60]}, "2\\*\\*53"),
    ],
)
def test_it_refuses_details_that_would_not_survive_storage(db, details, message):
    with pytest.raises(ValueError, match=message), transaction.atomic():
        record(SampleTag.MEMBER_UPDATE, details=details)


def test_it_refuses_a_nir_or_an_iban_as_a_key_of_the_details(db):
    for details in ({NIR: 1}, {"a": [{f"iban {IBAN}": True}]}):
        with pytest.raises(PersonalDataInAuditEvent), transaction.atomic():
            record(SampleTag.MEMBER_UPDATE, details=details)
    assert not Event.objects.exists()


def test_details_are_stored_as_plain_json(db):
    class Code(enum.StrEnum):
        EMAIL = "email"

    class Count(enum.IntEnum):
        THREE = 3

    details = {Code.EMAIL: [Code.EMAIL, Count.THREE, True, None], "nested": ({"n": -(2**53)},)}
    with transaction.atomic():
        event = record(SampleTag.MEMBER_UPDATE, details=details)
    expected = {"email": ["email", 3, True, None], "nested": [{"n": -(2**53)}]}
    assert event.details == expected
    assert [type(v) for v in event.details["email"]] == [str, int, bool, type(None)]
    assert type(next(iter(event.details))) is str
    assert Event.objects.get().details == expected
    sequence_all()
    assert verify_chain().ok


def test_a_refusal_names_where_the_value_is_in_the_details(db):
    details = {"changes": [{"field": "email"}, {"field": "phone", "old": 1.5}]}
    floats = r"^audit details\.changes\[1\]\.old: floats"
    with pytest.raises(ValueError, match=floats), transaction.atomic():
        record(SampleTag.MEMBER_UPDATE, details=details)
    with pytest.raises(ValueError, match=r"^audit details\.note: NUL"), transaction.atomic():
        record(SampleTag.MEMBER_UPDATE, details={"note": "a\x00b"})


def test_the_insert_follows_a_reopened_connection_and_query_logging(transactional_db):
    # record() keeps one cursor per connection: a reconnect, or query logging switched on (DEBUG,
    # the tests' query counts), gives it a new one.
    with transaction.atomic():
        record(SampleTag.REPORT_READ)
    connection.close()
    with transaction.atomic():
        record(SampleTag.REPORT_READ)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        record(SampleTag.REPORT_READ)
    assert [q for q in queries.captured_queries if "INSERT INTO audit_event" in q["sql"]]
    with transaction.atomic():
        record(SampleTag.REPORT_READ)
    assert Event.objects.count() == 4


def test_a_refused_insert_raises_djangos_database_error(db):
    # The INSERT goes through the driver's own cursor: its errors are still Django's.
    sqlite = connection.vendor == "sqlite"
    try:
        with pytest.raises(DatabaseError, match=r"read-?only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA query_only = ON" if sqlite else "SET TRANSACTION READ ONLY")
            record(SampleTag.REPORT_READ)
    finally:
        if sqlite:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA query_only = OFF")
    assert not Event.objects.exists()


def test_no_event_is_written_in_a_transaction_that_must_roll_back(db):
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic(savepoint=False):
            raise RuntimeError  # no savepoint to go back to: the whole transaction is doomed
        with pytest.raises(TransactionManagementError):
            record(SampleTag.REPORT_READ)
    assert not Event.objects.exists()


def test_the_insert_goes_through_djangos_execute_wrappers(db):
    seen = []

    def spy(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with transaction.atomic():
        record(SampleTag.REPORT_READ)
    with connection.execute_wrapper(spy), transaction.atomic():
        record(SampleTag.REPORT_READ)
    assert [sql for sql in seen if "INSERT INTO audit_event" in sql]
    assert Event.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_backlog_drained_in_full_batches_raises_the_watermark_as_it_goes():
    # Else each batch would read again every event the batches before it placed.
    for i in range(9):
        with transaction.atomic():
            record(SampleTag.REPORT_READ, details={"i": i})
    ids = list(Event.objects.order_by("id").values_list("id", flat=True))
    marks = []
    while sequence(batch_size=3):
        marks.append(ChainHead.objects.get().watermark)
    # The first batch may only note the horizon (PostgreSQL); then each batch's last event.
    assert marks[1:] == [ids[5], ids[8]]
    assert verify_chain().ok


def test_the_package_exports_record(db):
    with transaction.atomic():
        event = audit.record(SampleTag.REPORT_READ, actor="staff:3")
    assert Event.objects.get().pk == event.pk


def test_events_cannot_be_changed_or_deleted_through_the_orm(chain):
    (event,) = chain(1)
    event.actor = "staff:99"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).update(actor="staff:99")
    with pytest.raises(AppendOnlyError):
        Event.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        ChainLink.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        ChainLink.objects.update(hash="0" * 64)
    assert Event.objects.get().actor == "staff:0"
