"""The access export reads its rows column by column: every value is still the one the ORM's
model instance gives, whatever the database, and the shortcuts taken on the way (values
converted once per distinct value, dates read as SQLite stores them, names of offers kept)
never give an older or another value."""

from __future__ import annotations

import datetime
import json
import uuid
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models.expressions import Col
from django.utils import timezone

from mutualis.billing import ledger
from mutualis.billing.models import LedgerEntry, LedgerKind
from mutualis.contact import services as contact
from mutualis.contact.models import Channel
from mutualis.contracts.models import Contract
from mutualis.rights import export
from mutualis.rights.export import build_access_export, render_access_json
from mutualis.rights.export.reading import _dicts
from mutualis.rights.export.values import (
    Memo,
    Stored,
    _date,
    datetime_converter,
    jsonable,
    uuid_text,
    uuid_texts,
)

pytestmark = pytest.mark.django_db

# Amounts whose text a float rounded twice could get wrong (SQLite keeps decimals as floats).
AMOUNTS = ["84.30", "84.30", "0.10", "0.01", "1.15", "1.005", "2.675", "1234567.89", "0.29"]


def _premiums(member, bob) -> None:
    for n, amount in enumerate(AMOUNTS):
        day = datetime.date(2026, 1 + n % 12, 5)
        kind = LedgerKind.DEBIT if n % 2 else LedgerKind.PREMIUM
        ledger.book(member=member, kind=kind, amount=Decimal(amount), booked_on=day,
                    label=f"Écriture {n}", actor=bob)  # fmt: skip


def _expected(f, instance):
    """What the export must say of field ``f`` of ``instance``, from the ORM's value."""
    value = getattr(instance, f.name)
    if f.kind == export.CHOICE:
        return value if value in (None, "") else f.choices.get(value, value)
    return jsonable(value)


def test_every_value_read_by_column_is_the_one_the_orm_gives(alice, bob):
    _premiums(alice, bob)
    inquiry = contact.open_inquiry(channel=Channel.MEMBER_SPACE, subject="Remboursement",
                                   body="Bonjour.", person=alice.person)  # fmt: skip
    contact.answer(inquiry=inquiry, body="Réponse.", actor=bob)
    data = build_access_export(alice.person)
    plans = {plan.code: plan for plan in export.plans()}
    checked = set()
    for category in data["categories"]:
        for record in category["records"]:
            plan = plans[record["model_code"]]
            instance = plan.model._base_manager.get(pk=record["record_id"])
            for f in plan.fields:
                if f.name in record["values"] and f.kind in (
                    export.VALUE,
                    export.CHOICE,
                    export.ENCRYPTED,
                ):
                    assert record["values"][f.name] == _expected(f, instance), (plan.code, f.name)
                    checked.add((plan.code, f.name))
    assert {
        ("billing.ledgerentry", "amount"),  # decimal
        ("billing.ledgerentry", "booked_on"),  # date
        ("billing.ledgerentry", "kind"),  # choice
        ("contact.inquiry", "received_at"),  # time
        ("members.person", "birth_date"),  # encrypted
    } <= checked


def test_the_amounts_of_the_ledger_are_written_as_booked(alice, bob):
    _premiums(alice, bob)
    data = build_access_export(alice.person)
    written = sorted(
        record["values"]["amount"]
        for category in data["categories"]
        for record in category["records"]
        if record["model_code"] == "billing.ledgerentry" and "amount" in record["values"]
    )
    booked = sorted(str(e.amount) for e in LedgerEntry.objects.filter(member=alice))
    assert written == booked and len(written) == len(AMOUNTS)
    # premiums owed, debits received (negative), rounded to the cent half up when booked
    assert written == sorted(
        ["84.30", "-84.30", "0.10", "-0.01", "1.15", "-1.01", "2.68", "-1234567.89", "0.29"]
    )


def test_a_renamed_offer_is_named_anew_in_the_next_export(alice):
    def offer_name():
        data = build_access_export(alice.person)
        (record,) = [
            record
            for category in data["categories"]
            for record in category["records"]
            if record["model_code"] == "contracts.contract" and "offer" in record["values"]
        ]
        return record["values"]["offer"]

    offer = Contract.objects.get(member=alice).offer
    assert offer_name() == offer.name
    type(offer).objects.filter(pk=offer.pk).update(name="Sérénité renouvelée")
    assert offer_name() == "Sérénité renouvelée"


def test_the_json_is_the_same_whatever_the_order_of_the_exports(alice, dave, bob):
    _premiums(alice, bob)
    _premiums(dave, bob)
    first = build_access_export(alice.person)
    build_access_export(dave.person)
    again = build_access_export(alice.person)
    first["generated_at"] = again["generated_at"] = "-"
    assert render_access_json(first) == render_access_json(again)


# --- The shortcuts, one by one -----------------------------------------------------------------
def test_a_memo_converts_each_distinct_value_once_and_none_never():
    calls = []

    def convert(value):
        calls.append(value)
        return f"<{value}>"

    memo = Memo(convert, limit=3)
    assert list(map(memo.__getitem__, [1, 1, None, 2, 1])) == ["<1>", "<1>", None, "<2>", "<1>"]
    assert calls == [1, 2]
    memo[3], memo[4]  # the fourth key empties it, then it starts again
    assert memo[1] == "<1>" and calls == [1, 2, 3, 4, 1]


def test_an_amount_gives_the_text_of_its_cents_whatever_form_the_driver_gives_it():
    field = LedgerEntry._meta.get_field("amount")
    expression = Col(LedgerEntry._meta.db_table, field)
    converters = connection.ops.get_db_converters(expression)
    memo = Memo(lambda value: jsonable(_apply(converters, value, expression)))
    if connection.vendor == "sqlite":  # a REAL, or an INTEGER when the amount has no cents
        assert memo[84] == memo[84.0] == "84.00"
        assert memo[84.3] == "84.30" and memo[0.1 + 0.2] == "0.30"
    else:  # the driver's Decimal, with the column's places
        assert memo[Decimal("84.00")] == "84.00" and memo[Decimal("84.30")] == "84.30"


def _apply(converters, value, expression):
    for converter in converters:
        value = converter(value, expression, connection)
    return value


def test_uuid_texts_are_those_of_the_uuid_module_for_every_form_a_driver_gives():
    keys = [uuid.uuid4() for _ in range(3)]
    expected = [str(k) for k in keys]
    assert uuid_texts([k.hex for k in keys]) == expected  # SQLite: 32 hex digits
    assert uuid_texts(keys) == expected  # PostgreSQL: UUID objects
    assert uuid_texts([keys[0].hex, str(keys[1]), keys[2]]) == expected  # anything else
    assert uuid_texts([k.hex for k in keys]) == [uuid_text(k.hex) for k in keys]
    assert uuid_texts([keys[0].hex]) == expected[:1]  # one or two: converted one by one


@pytest.mark.parametrize("width", range(1, 11))
def test_the_values_of_a_category_are_the_same_whatever_its_width(width):
    names = tuple(f"field_{i}" for i in range(width))
    columns = [[f"{row}-{i}" for row in range(4)] for i in range(width)]
    assert _dicts(names, columns) == [
        dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)
    ]


def test_a_date_read_as_stored_is_written_as_the_driver_would_have_read_it(alice, bob):
    """Django registers SQLite's parsers of date and time columns; the export reads the text of
    an expression instead and parses it with the same function. Fails if either changes."""
    _premiums(alice, bob)
    query = (
        LedgerEntry.objects.filter(member=alice)
        .annotate(stored=Stored("booked_on"))
        .values_list("pk", "booked_on", "stored", "created_at", Stored("created_at"))
    )
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    assert rows
    moments = datetime_converter(connection.alias, timezone.get_current_timezone())
    created = {e.pk: e.created_at for e in LedgerEntry.objects.filter(member=alice)}
    for pk, day, stored, moment, stored_moment in rows:
        assert type(day) is datetime.date and type(moment) is datetime.datetime
        if connection.vendor == "sqlite":
            assert type(stored) is str and type(stored_moment) is str
        else:
            assert stored == day and stored_moment == moment
        assert _date(stored) == day.isoformat()
        expected = jsonable(created[uuid.UUID(str(pk))])  # in the mutuelle's zone
        assert moments(stored_moment) == moments(moment) == expected
    assert _date("2026-1-5") == "2026-01-05"  # what the driver makes of a short form


@pytest.mark.parametrize("zone_name", ["Europe/Paris", "Asia/Kolkata", "America/St_Johns"])
def test_a_time_read_as_stored_text_is_written_as_a_full_conversion_would(zone_name):
    """SQLite's text of a UTC time keeps its minutes and seconds: only its date and hour move,
    which must give the full conversion's text on both sides of a change of offset, in the
    hour of the change, with or without microseconds, and in zones a half hour off UTC."""
    zone = zoneinfo.ZoneInfo(zone_name)
    convert = datetime_converter(connection.alias, zone)
    moments = [datetime.datetime(2026, 1, 1, 23, 59, 59), datetime.datetime(2026, 6, 30, 22)]
    for start in (datetime.datetime(2026, 3, 29), datetime.datetime(2026, 10, 25)):
        moments += [start + datetime.timedelta(minutes=7 * i, microseconds=i) for i in range(60)]
    moments += [datetime.datetime(2026, 3, 29, 1), datetime.datetime(2026, 10, 25, 0, 59, 59)]
    moments += [datetime.datetime(2026, 11, 2, 4, 30, 0, 500000)]
    for moment in moments + moments:  # the second time from what the first remembered
        expected = moment.replace(tzinfo=datetime.UTC).astimezone(zone).isoformat()
        assert convert(str(moment)) == expected, moment
    # Texts Django does not write are converted as their parsed value is.
    for text in ("2026-03-29T01:30:00", "2026-03-29 01:30:00.000000", "2026-03-29 01:30:00.5"):
        moment = datetime.datetime.fromisoformat(text)
        assert convert(text) == moment.replace(tzinfo=datetime.UTC).astimezone(zone).isoformat()
    with pytest.raises(ValueError):
        convert("2026-03-29 01:61:00")


def test_a_category_is_laid_out_as_any_other_object_whatever_its_records(alice, monkeypatch):
    """What surrounds a category's records is laid out once per category: the document is
    the same as the generic layout gives, and a category that differs gets its own frame."""
    from mutualis.rights.export import render

    data = build_access_export(alice.person)
    renamed = {**data["categories"][0], "label": "autre libellé", "records": []}
    data["categories"].append(renamed)
    framed = render_access_json(data)
    monkeypatch.setattr(render, "_CATEGORY", frozenset())  # every object by the generic layout
    assert render_access_json(data) == framed
    assert json.loads(framed)["categories"][-1] == renamed
