"""``audit_verify`` names every kind of tampering, placed events and pending ones alike."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from mutualis.audit.keys import audit_key_ring
from mutualis.audit.models import ChainHead, ChainLink, Event, canonical_content, link_hash
from mutualis.audit.sequencer import sequence_all
from mutualis.audit.services import record
from mutualis.audit.tests.conftest import SampleTag, as_json
from mutualis.audit.verify import verify_chain


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", "--chunk-size", "2", stdout=out)
    return out.getvalue()


def link(seq: int) -> ChainLink:
    return ChainLink.objects.select_related("event").get(seq=seq)


def uid_param(uid: uuid.UUID):
    return uid.hex if connection.vendor == "sqlite" else uid


INSERT_EVENT = (
    "INSERT INTO audit_event (uid, at, actor, tag, subject_id, target, details, mac) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


def forge_event(tamper, *, mac: str | None = None, uid: uuid.UUID | None = None) -> int:
    """Insert an event as an attacker would: everything right but the MAC (no key)."""
    uid = uid or uuid.uuid4()
    at = timezone.now()
    fields = dict(actor="staff:666", tag="members:member:update", subject_id="100", target="")
    content = canonical_content(uid=uid, at=at, details={}, **fields)
    mac = mac or (audit_key_ring().current_id + ":" + "0" * 64)
    stamp = connection.ops.adapt_datetimefield_value(at)
    tamper(
        INSERT_EVENT,
        [uid_param(uid), stamp, *fields.values(), as_json({}), mac],
    )
    event = Event.objects.get(uid=uid)
    assert content  # the content an attacker would have had to sign
    return event.pk


def test_it_passes_an_intact_chain_and_counts_its_events(chain):
    chain(5)
    assert "Journal d'audit intègre : 5 événements vérifiés." in verify()


def test_it_passes_events_not_yet_placed_and_says_so(chain):
    chain(3)
    chain(2, placed=False)
    assert "5 événements vérifiés, dont 2 en attente de placement" in verify()


def test_it_passes_an_empty_log(db):
    assert "0 événement vérifié" in verify()


def test_it_names_a_modified_event(chain, tamper):
    events = chain(5)
    tamper("UPDATE audit_event SET details = %s WHERE id = %s", [as_json({}), events[2].pk])

    with pytest.raises(CommandError, match=r"l'événement n° 3 a été modifié"):
        verify()


def test_it_names_an_edit_even_when_the_chain_was_rehashed_after_it(chain, tamper):
    """Without the audit key, rewriting every link hash from the edit on does not help."""
    events = chain(5)
    tamper("UPDATE audit_event SET actor = 'staff:666' WHERE id = %s", [events[2].pk])
    prev = link(2).hash
    for seq in (3, 4, 5):
        event = Event.objects.get(link__seq=seq)
        prev = link_hash(
            seq=seq, event_id=event.pk, prev_hash=prev, mac=event.mac, content=event.content()
        )
        tamper("UPDATE audit_chainlink SET hash = %s WHERE seq = %s", [prev, seq])
    tamper("UPDATE audit_chainhead SET last_hash = %s", [prev])

    with pytest.raises(CommandError, match=r"l'événement n° 3 a été modifié"):
        verify()


def test_it_names_events_swapped_in_the_chain(chain, tamper):
    events = chain(5)
    a, b = events[1].pk, events[2].pk
    tamper("UPDATE audit_chainlink SET event_id = -1 WHERE seq = 2")
    tamper("UPDATE audit_chainlink SET event_id = -2 WHERE seq = 3")
    tamper("UPDATE audit_chainlink SET event_id = %s WHERE seq = 2", [b])
    tamper("UPDATE audit_chainlink SET event_id = %s WHERE seq = 3", [a])

    with pytest.raises(CommandError, match=r"l'événement n° 2 ne suit pas l'événement n° 1"):
        verify()


def test_it_names_a_replaced_link_hash(chain, tamper):
    chain(5)
    tamper("UPDATE audit_chainlink SET hash = %s WHERE seq = 3", ["f" * 64])

    with pytest.raises(CommandError, match=r"l'événement n° 3 ne suit pas"):
        verify()


def test_it_names_a_deleted_event(chain, tamper):
    events = chain(5)
    tamper("DELETE FROM audit_chainlink WHERE seq = 3")
    tamper("DELETE FROM audit_event WHERE id = %s", [events[2].pk])

    with pytest.raises(CommandError, match=r"l'événement n° 3 manque : supprimé"):
        verify()


def test_it_names_events_deleted_at_the_end(chain, tamper):
    events = chain(5)
    tamper("DELETE FROM audit_chainlink WHERE seq >= 4")
    tamper("DELETE FROM audit_event WHERE id >= %s", [events[3].pk])

    with pytest.raises(CommandError, match=r"les événements n° 4 à 5 manquent"):
        verify()


def test_it_names_an_event_forged_into_the_chain(chain, tamper):
    chain(5)
    forged = forge_event(tamper)
    tamper("DELETE FROM audit_chainlink WHERE seq = 3")
    tamper(
        "INSERT INTO audit_chainlink (seq, event_id, hash) VALUES (3, %s, %s)", [forged, "a" * 64]
    )

    with pytest.raises(CommandError, match=r"l'événement n° 3 a été modifié"):
        verify()


def test_it_names_an_event_signed_with_a_key_it_does_not_know(chain, tamper):
    chain(2)
    forge_event(tamper, mac="0123456789abcdef:" + "0" * 64)

    with pytest.raises(CommandError, match=r"clé d'audit inconnue \(0123456789abcdef\)"):
        verify()


def test_it_names_a_link_forged_beyond_the_head(chain, tamper):
    chain(5)
    forged = forge_event(tamper)
    tamper(
        "INSERT INTO audit_chainlink (seq, event_id, hash) VALUES (6, %s, %s)", [forged, "a" * 64]
    )

    with pytest.raises(CommandError, match=r"l'événement n° 6 est au-delà de la tête de chaîne"):
        verify()


def test_it_names_the_last_event_when_replaced_with_the_head_left_behind(chain, tamper):
    chain(5)
    tamper("UPDATE audit_chainhead SET last_hash = %s", ["e" * 64])

    with pytest.raises(CommandError, match=r"n° 5 ne correspond pas à la tête de chaîne"):
        verify()


def test_it_starts_from_the_checkpoint_of_a_pruned_chain(chain, tamper):
    events = chain(5)
    checkpoint = link(2).hash
    tamper("DELETE FROM audit_chainlink WHERE seq <= 2")
    tamper("DELETE FROM audit_event WHERE id <= %s", [events[1].pk])
    ChainHead.objects.update(checkpoint_seq=2, checkpoint_hash=checkpoint)

    assert "3 événements vérifiés" in verify()


def test_it_names_a_modified_event_not_yet_placed(chain, tamper):
    events = chain(3, placed=False)
    tamper("UPDATE audit_event SET subject_id = '999' WHERE id = %s", [events[1].pk])

    with pytest.raises(
        CommandError, match=rf"l'événement {events[1].pk} \(en attente\) a été modifié"
    ):
        verify()


def test_it_names_an_event_forged_among_those_not_yet_placed(chain, tamper):
    chain(2, placed=False)
    forged = forge_event(tamper)

    with pytest.raises(CommandError, match=rf"l'événement {forged} \(en attente\) a été modifié"):
        verify()


def test_a_copy_of_an_event_is_not_valid_twice(chain, tamper):
    """The MAC binds the content to the event's unique id: a copy needs a new id, and fails."""
    (event,) = chain(1, placed=False)
    forged = forge_event(tamper, mac=event.mac)

    with pytest.raises(CommandError, match=rf"l'événement {forged} \(en attente\) a été modifié"):
        verify()


def test_it_names_an_event_slipped_below_the_watermark(chain, tamper):
    """An event inserted with an id the sequencer has passed would never be placed: named."""
    events = chain(3)
    forged = forge_event(tamper)
    tamper("UPDATE audit_event SET id = %s WHERE id = %s", [events[-1].pk - 100_000, forged])
    tamper("UPDATE audit_chainhead SET watermark = %s", [events[-1].pk])

    with pytest.raises(
        CommandError,
        match=rf"l'événement {events[-1].pk - 100_000} n'est pas dans la chaîne alors que",
    ):
        verify()


def test_it_names_the_break_as_data_for_the_pages_that_show_it(chain, tamper):
    events = chain(4)
    tamper("UPDATE audit_event SET target = 'x' WHERE id = %s", [events[1].pk])

    result = verify_chain()
    assert not result.ok
    assert (result.first_break.seq, result.first_break.event_id) == (2, events[1].pk)
    assert result.checked == 1


def test_events_signed_with_a_former_key_still_verify_after_a_key_change(chain, settings):
    chain(2)
    former = settings.MUTUALIS_AUDIT_KEYS_RAW
    settings.MUTUALIS_AUDIT_KEYS_RAW = "A" * 43 + "=," + former
    with transaction.atomic():
        event = record(SampleTag.REPORT_READ)
    sequence_all()

    assert event.mac.partition(":")[0] == audit_key_ring().current_id
    assert "3 événements vérifiés" in verify()


def test_it_reads_without_writing(chain):
    chain(3)
    chain(1, placed=False)
    before = list(ChainLink.objects.values_list("seq", "hash"))
    verify()
    assert list(ChainLink.objects.values_list("seq", "hash")) == before
    assert ChainHead.objects.get().last_seq == 3
    assert Event.objects.filter(link__isnull=True).count() == 1
