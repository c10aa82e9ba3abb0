"""The Art. 30 register and the policy page say the same thing, both from the declaration."""

from __future__ import annotations

import csv
import html
import io

import pytest
from django.core.management import call_command

from mutualis.lib import french
from mutualis.privacy import catalogue
from mutualis.privacy.policy import processing_entries


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("privacy_register", *args, stdout=out)
    return out.getvalue()


def test_csv_register_has_one_row_per_purpose():
    rows = list(csv.DictReader(io.StringIO(_run("--format", "csv"))))
    assert [r["finalite"] for r in rows] == [p.title for p in catalogue.ALL_PURPOSES]
    for row, purpose in zip(rows, catalogue.ALL_PURPOSES, strict=True):
        assert purpose.legal_basis.article in row["base_legale"]
        assert row["conservation"].startswith("Base active")
        assert row["destinataires"]
        assert row["categories_de_personnes"]
        assert "chiffrement" in row["mesures_de_securite"]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_markdown_and_html_registers_name_every_purpose(fmt):
    text = html.unescape(_run("--format", fmt))
    for purpose in catalogue.ALL_PURPOSES:
        assert purpose.title in text
        assert purpose.retention.source in text


def test_register_lists_the_declared_fields_of_each_purpose():
    entries = {e.code: e for e in processing_entries()}
    declared = {(f.model, f.field) for e in entries.values() for f in e.fields}
    # The audit log is declared under security logging: its subject column must be listed.
    assert ("audit.Event", "subject_id") in declared
    assert all(f.model for e in entries.values() for f in e.fields)


@pytest.mark.django_db
def test_policy_page_shows_the_register_content(client):
    call_command("publish_policy", stdout=io.StringIO())
    page = french.plain(html.unescape(client.get("/confidentialite/").content.decode()))
    for entry in processing_entries():
        assert entry.purpose.title in page
        assert entry.legal_basis in page
        assert entry.retention in page
        for recipient in entry.recipients:
            assert recipient in page


def test_unknown_format_is_refused():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("privacy_register", "--format", "pdf")


def test_transfers_and_automated_decisions_are_stated_from_the_declaration(monkeypatch):
    import dataclasses

    from mutualis.privacy.declaration import NO_AUTOMATED_DECISION, NO_TRANSFER

    rows = list(csv.DictReader(io.StringIO(_run("--format", "csv"))))
    # No recipient outside the EU and no automated decision are declared today.
    assert {r["transferts_hors_ue"] for r in rows} == {NO_TRANSFER}
    assert {r["decisions_automatisees"] for r in rows} == {NO_AUTOMATED_DECISION}

    first, *others = catalogue.ALL_PURPOSES
    abroad = dataclasses.replace(
        first.recipients[0], label="Réassureur", third_country="Suisse, décision d'adéquation"
    )
    declared = dataclasses.replace(
        first,
        recipients=(*first.recipients, abroad),
        automated_decision="tarification selon l'âge, sans intervention humaine",
    )
    monkeypatch.setattr(catalogue, "ALL_PURPOSES", (declared, *others))
    entry = processing_entries()[0]
    assert entry.transfers == "Réassureur : Suisse, décision d'adéquation"
    assert entry.automated_decision == "tarification selon l'âge, sans intervention humaine"
    text = _run("--format", "md")
    assert "**Transferts hors de l'Union européenne** : Réassureur : Suisse" in text
    assert processing_entries()[1].transfers == NO_TRANSFER
