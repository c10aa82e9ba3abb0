from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from mutualis.audit.models import ChainHead, Event, chain_hash
from mutualis.audit.tests.conftest import as_json


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", "--chunk-size", "2", stdout=out)
    return out.getvalue()


def forge(*, seq: int, prev_hash: str) -> list:
    """A forged row whose own hash is right (the attacker knows the algorithm)."""
    at = timezone.now()
    actor, tag, subject_id, target, details = "staff:666", "members:member:update", "100", "", {}
    digest = chain_hash(
        seq=seq,
        at=at,
        actor=actor,
        tag=tag,
        subject_id=subject_id,
        target=target,
        details=details,
        prev_hash=prev_hash,
    )
    return [seq, at, actor, tag, subject_id, target, as_json(details), prev_hash, digest]


INSERT = (
    "INSERT INTO audit_event (seq, at, actor, tag, subject_id, target, details, prev_hash, hash) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def test_it_passes_an_intact_chain_and_counts_its_events(chain):
    chain(5)
    assert "Journal d'audit intègre : 5 événements vérifiés" in verify()


def test_it_passes_an_empty_log(db):
    assert "0 événements vérifiés" in verify()


def test_it_names_a_modified_event(chain, tamper):
    chain(5)
    tamper("UPDATE audit_event SET details = %s WHERE seq = 3", [as_json({})])

    with pytest.raises(CommandError, match=r"n° 3 : l'événement n° 3 a été modifié"):
        verify()


def test_it_names_an_event_whose_hash_was_replaced(chain, tamper):
    chain(5)
    tamper("UPDATE audit_event SET hash = %s WHERE seq = 3", ["f" * 64])

    with pytest.raises(CommandError, match=r"n° 3 : l'événement n° 3 a été modifié"):
        verify()


def test_it_names_an_event_rehashed_after_its_edit(chain, tamper):
    """Recomputing the edited event's hash breaks the link from the next one."""
    events = chain(5)
    third = events[2]
    digest = chain_hash(
        seq=3,
        at=third.at,
        actor="staff:666",
        tag=third.tag,
        subject_id=third.subject_id,
        target=third.target,
        details=third.details,
        prev_hash=third.prev_hash,
    )
    tamper("UPDATE audit_event SET actor = 'staff:666', hash = %s WHERE seq = 3", [digest])

    with pytest.raises(CommandError, match=r"n° 4 : l'événement n° 4 ne suit pas"):
        verify()


def test_it_names_a_deleted_event(chain, tamper):
    chain(5)
    tamper("DELETE FROM audit_event WHERE seq = 3")

    with pytest.raises(
        CommandError, match=r"n° 3 : l'événement n° 3 manque : supprimé avant l'événement n° 4"
    ):
        verify()


def test_it_names_events_deleted_at_the_end(chain, tamper):
    chain(5)
    tamper("DELETE FROM audit_event WHERE seq >= 4")

    with pytest.raises(CommandError, match=r"les événements n° 4 à 5 manquent"):
        verify()


def test_it_names_an_event_forged_in_place_of_a_deleted_one(chain, tamper):
    events = chain(5)
    tamper("DELETE FROM audit_event WHERE seq = 3")
    params = forge(seq=3, prev_hash=events[1].hash)
    tamper(INSERT, params)

    with pytest.raises(CommandError, match=r"n° 3 a été enregistré après .* inséré hors d'ordre"):
        verify()


def test_it_names_an_event_forged_beyond_the_head(chain, tamper):
    events = chain(5)
    params = forge(seq=6, prev_hash=events[-1].hash)
    tamper(INSERT, params)

    with pytest.raises(CommandError, match=r"n° 6 est au-delà de la tête de chaîne"):
        verify()


def test_it_names_the_last_event_when_replaced_with_the_head_left_behind(chain, tamper):
    events = chain(5)
    tamper("DELETE FROM audit_event WHERE seq = 5")
    params = forge(seq=5, prev_hash=events[3].hash)
    tamper(INSERT, params)

    with pytest.raises(CommandError, match=r"n° 5 ne correspond pas à la tête de chaîne"):
        verify()


def test_it_starts_from_the_checkpoint_of_a_pruned_chain(chain, tamper):
    events = chain(5)
    tamper("DELETE FROM audit_event WHERE seq <= 2")
    ChainHead.objects.update(checkpoint_seq=2, checkpoint_hash=events[1].hash)

    assert "3 événements vérifiés" in verify()


def test_it_reads_without_writing(chain):
    chain(3)
    before = list(Event.objects.values_list("seq", "hash"))
    verify()
    assert list(Event.objects.values_list("seq", "hash")) == before
    assert ChainHead.objects.get().last_seq == 3
