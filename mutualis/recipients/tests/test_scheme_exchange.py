"""The affiliation exchange: out, acknowledgement in; idempotent, resumable, one disclosure per
person with the file's hash; rejected people queued for the gestion service."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from mutualis.audit.models import Disclosure
from mutualis.members.models import Person
from mutualis.privacy import catalogue, promises, restrictions
from mutualis.privacy.models import RestrictionGround
from mutualis.recipients import notices
from mutualis.recipients.exchange import acknowledgement, inbound, outbound, render
from mutualis.recipients.exchange import format as fmt
from mutualis.recipients.models import NoticeCause
from mutualis.recipients.models_exchange import (
    ExchangeFile,
    ExchangeLine,
    ExchangeStatus,
    LineStatus,
)

pytestmark = pytest.mark.django_db


def _run(scheme, tmp_path, **kwargs):
    return outbound.run(scheme, as_of=timezone.localdate(), directory=tmp_path, **kwargs)


def _records(path):
    return fmt.split_records(path.read_bytes(), fmt.OUTBOUND_FORMAT)


def test_a_file_holds_each_covered_person_and_each_line_is_a_disclosure_with_its_hash(
    scheme, alice, dave, tmp_path
):
    result = _run(scheme, tmp_path)
    exchange = result.exchange
    assert exchange.status == ExchangeStatus.WRITTEN and result.path.exists()
    records = _records(result.path)
    header, trailer = records[0][1], records[-1][1]
    assert header["receiver"] == "01751" and header["sequence"] == "000001"
    people = [f for _, f in records[1:-1]]
    assert int(trailer["affiliations"]) == len(people) == 4  # two members, two children
    by_nir = {}
    for fields in people:
        by_nir.setdefault(fields["nir"], []).append(fields["quality"])
    # The children are attached to their parent's NIR: the parent's number, quality E.
    assert {nir: sorted(q) for nir, q in by_nir.items()} == {
        alice.person.nir: ["A", "E"],
        dave.person.nir: ["A", "E"],
    }
    assert all(f["status"] == "C" and f["regime"] == "01" for f in people)
    digest = fmt.sha256(result.path.read_bytes())
    assert exchange.sha256 == digest
    disclosures = Disclosure.objects.filter(recipient=catalogue.MANDATORY_SCHEMES.code)
    assert disclosures.count() == 4
    assert all(digest in d.reason and exchange.file_name in d.reason for d in disclosures)
    assert {d.subject_id for d in disclosures} == set(
        ExchangeLine.objects.values_list("subject_id", flat=True)
    )
    assert [b for r in promises.run(only=["T6"]) for b in r.breaches] == []


def test_the_file_round_trips_through_an_acknowledgement_with_a_rejection(
    scheme, alice, dave, tmp_path
):
    result = _run(scheme, tmp_path)
    ack = acknowledgement.acknowledge(result.path, tmp_path / "ack.txt", rejected={2: "002"})
    imported = inbound.import_acknowledgement(ack)
    assert (imported.accepted, imported.rejected) == (3, 1)
    exchange = imported.exchange
    exchange.refresh_from_db()
    assert exchange.status == ExchangeStatus.ACKNOWLEDGED
    queue = ExchangeLine.objects.to_resolve()
    assert [(line.number, line.reject_code) for line in queue] == [(2, "002")]
    assert queue[0].reject_label == "Date de naissance discordante"
    again = inbound.import_acknowledgement(ack)
    assert again.already and ExchangeLine.objects.filter(status=LineStatus.REJECTED).count() == 1
    inbound.resolve_rejection(line=queue[0], resolution="Date corrigée avec la caisse", actor=None)
    assert not ExchangeLine.objects.to_resolve().exists()


def test_a_second_run_the_same_day_changes_nothing(scheme, alice, tmp_path):
    first = _run(scheme, tmp_path)
    content = first.path.read_bytes()
    second = _run(scheme, tmp_path)
    assert not second.created and "déjà produit" in second.messages[0]
    assert second.path.read_bytes() == content
    assert Disclosure.objects.count() == 2  # alice and her child, once


def _flaky_disclosures(monkeypatch, fail_at: int):
    """``audit.record_disclosure`` failing at its ``fail_at``-th call (a crash mid-step)."""
    from mutualis import audit

    real = audit.record_disclosure
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise RuntimeError("coupure")
        return real(**kwargs)

    monkeypatch.setattr(audit, "record_disclosure", flaky)
    return real


def test_an_interrupted_run_records_and_publishes_nothing_and_a_rerun_sends_each_line_once(
    scheme, alice, dave, tmp_path, monkeypatch
):
    """The disclosures and the record of the file as sent commit together: a crash at the
    third disclosure (batches of two) leaves none of them, and no file under its name."""
    from mutualis import audit

    monkeypatch.setattr(outbound, "BATCH", 2)
    real = _flaky_disclosures(monkeypatch, fail_at=3)
    with pytest.raises(RuntimeError):
        _run(scheme, tmp_path)
    assert not Disclosure.objects.exists()
    assert ExchangeFile.objects.get().status == ExchangeStatus.BUILDING
    assert list(tmp_path.glob("MTLAFF-*")) == []  # only the hidden, unsent file
    assert [p.name for p in tmp_path.glob(".MTLAFF-*")] == [".MTLAFF-01751-000001-" + _day()]
    monkeypatch.setattr(audit, "record_disclosure", real)
    result = _run(scheme, tmp_path)
    assert result.exchange.status == ExchangeStatus.WRITTEN
    assert Disclosure.objects.count() == 4 == result.disclosures
    assert ExchangeLine.objects.filter(disclosure__isnull=True).count() == 0
    assert list(tmp_path.glob(".MTLAFF-*")) == []
    assert fmt.sha256(result.path.read_bytes()) == result.exchange.sha256
    assert all(result.exchange.sha256 in d.reason for d in Disclosure.objects.all())


def _day() -> str:
    return f"{timezone.localdate():%Y%m%d}.txt.part"


def test_a_run_stopped_after_the_commit_publishes_the_recorded_file_next_time(
    scheme, alice, tmp_path, monkeypatch
):
    real = outbound.publish

    def cut(exchange, directory):
        raise RuntimeError("coupure")

    monkeypatch.setattr(outbound, "publish", cut)
    with pytest.raises(RuntimeError):
        _run(scheme, tmp_path)
    exchange = ExchangeFile.objects.get()
    assert exchange.status == ExchangeStatus.WRITTEN and Disclosure.objects.count() == 2
    assert list(tmp_path.glob("MTLAFF-*")) == []
    monkeypatch.setattr(outbound, "publish", real)
    second = _run(scheme, tmp_path)
    assert "publié maintenant" in second.messages[0]
    assert fmt.sha256(second.path.read_bytes()) == exchange.sha256
    assert Disclosure.objects.count() == 2  # recorded once, with the hash of the file sent
    assert list(tmp_path.glob(".MTLAFF-*")) == []


def test_a_file_taken_away_after_publication_is_not_produced_again(scheme, alice, tmp_path):
    first = _run(scheme, tmp_path)
    taken = tmp_path / "envoyes"
    taken.mkdir()
    first.path.rename(taken / first.path.name)
    again = _run(scheme, tmp_path)
    assert "rien à refaire" in again.messages[0]
    assert list(tmp_path.glob("*MTLAFF-*")) == []
    assert Disclosure.objects.count() == 2


def test_a_person_restricted_after_their_line_was_chosen_is_left_out_of_the_file(
    scheme, alice, dave, tmp_path, monkeypatch
):
    from mutualis import audit

    real = _flaky_disclosures(monkeypatch, fail_at=1)
    with pytest.raises(RuntimeError):
        _run(scheme, tmp_path)
    assert ExchangeLine.objects.filter(subject_id=str(dave.person_id)).exists()
    restrictions.start(
        subject=dave.person,
        purpose=restrictions.ALL_PURPOSES,
        ground=RestrictionGround.RESTRICTION,
        reason="Exactitude contestée",
    )
    monkeypatch.setattr(audit, "record_disclosure", real)
    result = _run(scheme, tmp_path)
    assert result.skipped_restricted == 1 and result.exchange.affiliations == 3
    assert not ExchangeLine.objects.filter(subject_id=str(dave.person_id)).exists()
    assert not Disclosure.objects.filter(subject_id=str(dave.person_id)).exists()
    # Dave's own line is gone; his child's stays, under his NIR (quality E).
    daves = [f for _, f in _records(result.path)[1:-1] if f["nir"] == dave.person.nir]
    assert [f["quality"] for f in daves] == ["E"]


class _Recorded:
    def __init__(self) -> None:
        self.steps: list[list] = []

    def step(self, label, total) -> None:
        self.steps.append([label, total, 0])

    def advance(self, count) -> None:
        self.steps[-1][2] += count


def test_each_step_reports_its_progress_the_disclosures_with_their_total(
    scheme, alice, dave, tmp_path, monkeypatch
):
    monkeypatch.setattr(outbound, "BATCH", 3)
    progress = _Recorded()
    _run(scheme, tmp_path, progress=progress)
    assert progress.steps == [
        [outbound.STEP_LINES, None, 4],
        [outbound.STEP_DISCLOSURES, 4, 4],
    ]


def test_rendering_a_file_takes_as_many_queries_whatever_the_number_of_children(
    scheme, alice, dave, tmp_path
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    exchange = _run(scheme, tmp_path).exchange
    render.render_file(exchange)  # caches warm
    with CaptureQueriesContext(connection) as two_children:
        rendered = render.render_file(exchange)
    assert len(rendered.affiliations) == 4
    ExchangeLine.objects.filter(
        subject_id__in=[str(dave.person_id), str(dave.beneficiaries.get().person_id)]
    ).delete()
    with CaptureQueriesContext(connection) as one_child:
        assert len(render.render_file(exchange).affiliations) == 2
    assert len(two_children.captured_queries) == len(one_child.captured_queries)


def test_restricted_people_and_other_schemes_are_left_out(scheme, alice, dave, tmp_path):
    restrictions.start(
        subject=dave.person,
        purpose=restrictions.ALL_PURPOSES,
        ground=RestrictionGround.RESTRICTION,
        reason="Exactitude contestée",
    )
    Person.objects.filter(pk=alice.person_id).update(scheme_regime="02", scheme_caisse="123")
    result = _run(scheme, tmp_path)
    assert result.skipped_restricted == 1
    subjects = set(ExchangeLine.objects.values_list("subject_id", flat=True))
    assert str(dave.person_id) not in subjects and str(alice.person_id) not in subjects
    # The children keep their own scheme code, and their restriction is not their parent's.
    assert subjects == {
        str(alice.beneficiaries.get().person_id),
        str(dave.beneficiaries.get().person_id),
    }


def test_a_rectification_notice_goes_in_the_next_file(scheme, alice, tmp_path):
    first = _run(scheme, tmp_path)
    line = first.exchange.lines.get(subject_id=str(alice.person_id))
    created = notices.notify(
        subject_id=str(alice.person_id),
        categories=[catalogue.ADMINISTRATIVE],
        cause=NoticeCause.RECTIFICATION,
        source="rights.rightsrequest:1",
    )
    assert [n.organisation for n in created] == [scheme]
    later = timezone.localdate() + datetime.timedelta(days=1)
    result = outbound.run(scheme, as_of=later, directory=tmp_path)
    notice_records = [f for _, f in _records(result.path) if f["type"] == fmt.NOTICE]
    assert notice_records == [
        {
            "type": "190",
            "line": notice_records[0]["line"],
            "nature": "R",
            "reference": line.reference,
            "date": f"{timezone.localdate():%Y%m%d}",
        }
    ]
    created[0].refresh_from_db()
    assert created[0].sent_at is not None


def test_a_tampered_acknowledgement_is_refused_whole(scheme, alice, tmp_path):
    result = _run(scheme, tmp_path)
    ack = acknowledgement.acknowledge(result.path, tmp_path / "ack.txt", rejected={1: "001"})
    data = bytearray(ack.read_bytes())
    third_record = 2 * (fmt.WIDTH + 1)
    assert data[third_record + 10] == ord("A")
    data[third_record + 10] = ord("R")  # line 2 rejected, behind the trailer's back
    ack.write_bytes(bytes(data))
    with pytest.raises(fmt.FormatError, match="empreinte"):
        inbound.import_acknowledgement(ack)
    assert not ExchangeLine.objects.exclude(status=LineStatus.PENDING).exists()


def test_the_command_writes_then_imports(scheme, alice, tmp_path, settings):
    out = io.StringIO()
    call_command("scheme_exchange", "--out", str(tmp_path), stdout=out)
    assert "2 personnes" in out.getvalue()
    path = next(tmp_path.glob("MTLAFF-*"))
    settings.DEBUG = True
    call_command("scheme_exchange", "--simulate-ack", str(path), "--reject", "1:003", stdout=out)
    ack = next(tmp_path.glob("MTLARL-*"))
    call_command("scheme_exchange", "--import", str(ack), stdout=out)
    assert "1 ligne acceptée, 1 rejetée" in out.getvalue()
    with pytest.raises(CommandError, match="introuvable"):
        call_command("scheme_exchange", "--import", str(tmp_path / "absent.txt"))
