"""An acknowledgement file that is malformed (a blank number, an impossible date) or addressed
to another insurer is refused whole, with a French message and never a traceback; nothing of it
is written."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from mutualis.recipients.exchange import acknowledgement, inbound, outbound
from mutualis.recipients.exchange import format as fmt
from mutualis.recipients.models_exchange import (
    ExchangeAcknowledgement,
    ExchangeLine,
    ExchangeStatus,
    LineStatus,
)

pytestmark = pytest.mark.django_db
RECORD = fmt.WIDTH + 1  # a record and its line feed


@pytest.fixture
def ack(scheme, alice, tmp_path):
    """A valid acknowledgement of the day's file (2 lines: alice and her child)."""
    result = outbound.run(scheme, as_of=timezone.localdate(), directory=tmp_path)
    return acknowledgement.acknowledge(result.path, tmp_path / "MTLARL-test.txt")


def _edit(path, record: int, start: int, text: str) -> None:
    """Overwrite 1-based positions ``start…`` of record ``record`` (1-based; -1: the trailer),
    then seal the trailer again, so that only the edited field is wrong."""
    data = bytearray(path.read_bytes())
    count = len(data) // RECORD
    index = (count - 1 if record == -1 else record - 1) * RECORD + start - 1
    data[index : index + len(text)] = text.encode(fmt.ENCODING)
    body = bytes(data[: len(data) - RECORD])
    trailer = bytearray(data[len(data) - RECORD :])
    trailer[24:88] = fmt.sha256(body).encode()
    path.write_bytes(body + bytes(trailer))


def _refused(path) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("scheme_exchange", "--import", str(path))
    message = str(caught.value)
    assert "Rien n'a été importé" in message
    assert not ExchangeAcknowledgement.objects.exists()
    assert not ExchangeLine.objects.exclude(status=LineStatus.PENDING).exists()
    assert not ExchangeLine.objects.filter(exchange__status=ExchangeStatus.ACKNOWLEDGED).exists()
    return message


@pytest.mark.parametrize(
    ("record", "start", "text", "words"),
    [
        (2, 4, " " * 7, "Ligne 2 : champ « line » vide"),
        (-1, 4, " " * 7, "Ligne 4 : champ « accepted » vide"),
        (-1, 18, " " * 7, "Ligne 4 : champ « records » vide"),
        (1, 26, " " * 6, "Ligne 1 : champ « sequence » vide"),
        (1, 12, " " * 5, "Ligne 1 : champ « sender » vide"),
        (2, 4, "00 0001", "Ligne 2 : champ « line » invalide"),
        (1, 96, "20261340120000", "Ligne 1 : champ « created_at » : date impossible"),
    ],
    ids=[
        "blank line number",
        "blank accepted count",
        "blank record count",
        "blank sequence",
        "blank sender",
        "space inside a number",
        "month 13",
    ],
)
def test_a_blank_or_malformed_number_or_date_refuses_the_whole_file(
    ack, record, start, text, words
):
    _edit(ack, record, start, text)
    assert words in _refused(ack)


def test_an_acknowledgement_addressed_to_another_insurer_is_refused(ack, settings):
    _edit(ack, 1, 17, "999999999")
    message = _refused(ack)
    assert "adressé à l'organisme n° 999999999" in message
    assert settings.MUTUALIS_AMC_NUMBER in message


def test_the_same_file_addressed_to_the_mutuelle_is_imported(ack):
    imported = inbound.import_acknowledgement(ack)
    assert (imported.accepted, imported.rejected) == (2, 0)
    assert imported.exchange.status == ExchangeStatus.ACKNOWLEDGED
