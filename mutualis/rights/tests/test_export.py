"""The access export (GDPR art. 15) and the portability archive (art. 20) follow the declaration."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
import zipfile
import zoneinfo

import pytest
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from mutualis import audit
from mutualis.audit.models import Event
from mutualis.audit.sequencer import sequence_all
from mutualis.billing.models import Mandate
from mutualis.contact import services as contact
from mutualis.contact.models import Channel
from mutualis.contracts.models import Contract
from mutualis.contracts.testing import make_person_data
from mutualis.members import services as members
from mutualis.members.models import Person
from mutualis.members.tags import MembersTag
from mutualis.privacy import catalogue, registry
from mutualis.privacy.declaration import NO_AUTOMATED_DECISION, NO_TRANSFER
from mutualis.rights import export
from mutualis.rights.export import (
    CSV_COLUMNS,
    GENERATED,
    INDEX_WITHHELD,
    NOT_WALKED,
    PASSWORD_WITHHELD,
    PROVIDED,
    access_page_context,
    build_access_export,
    portability_archive,
    render_access_json,
)
from mutualis.rights.export.values import datetime_converter
from mutualis.vault import services as vault
from mutualis.vault.erased import ERASED_TEXT

pytestmark = pytest.mark.django_db


def entries(data, *, field_code=None, model_code=None, holder=None):
    """Every (record, entry) of the export matching the filters: an entry is one value of a
    record with what the export's declaration states of its field."""
    for category in data["categories"]:
        for record in category["records"]:
            if model_code and record["model_code"] != model_code:
                continue
            if holder and record["holder"] != holder:
                continue
            declared = data["declaration"][record["model_code"]]["fields"]
            for code, value in record["values"].items():
                if field_code is None or code == field_code:
                    entry = {**declared[code], "field_code": code, "value": value,
                             "erased": code in record["erased"]}  # fmt: skip
                    yield record, entry


def value_of(data, model_code, field_code, holder=export.SELF):
    found = [e["value"] for _r, e in entries(data, field_code=field_code, model_code=model_code,
                                             holder=holder)]  # fmt: skip
    assert len(found) == 1, (model_code, field_code, found)
    return found[0]


def history(member, *, threads: int, staff) -> None:
    """Correspondence, a complaint, consents and log-ins: ``threads`` of each kind."""
    from mutualis.consent import services as consent

    person = member.person
    for i in range(threads):
        inquiry = contact.open_inquiry(
            channel=Channel.MEMBER_SPACE,
            subject=f"Question {i}",
            body=f"Bonjour, ma question n° {i}.",
            person=person,
            files=[
                contact.IncomingFile(f"ordonnance-{i}.pdf", b"%PDF-1.4 fake", "application/pdf")
            ],
            sniff_attachments=False,
        )
        contact.answer(inquiry=inquiry, body=f"Réponse n° {i}", actor=staff)
        contact.qualify_as_complaint(
            inquiry=inquiry, complainant_type="member", reason=f"Motif {i}", actor=staff
        )
        consent.grant(person=person, topic="surveys", channel="email", source="member_space")
        members.record_login(account=member.account)


# --- Access: the person's own data -------------------------------------------------------------
def test_it_holds_alice_nir_decrypted_as_subscribed(alice):
    nir = Person.objects.get(pk=alice.person.pk).nir
    data = build_access_export(alice.person)
    assert nir and value_of(data, "members.person", "nir") == nir
    _record, entry = next(entries(data, field_code="nir", holder=export.SELF))
    assert entry["source"] == PROVIDED
    assert entry["recipients"] == [
        "Services internes de la mutuelle",
        "Régimes obligatoires d'assurance maladie",
        "Autorités administratives ou judiciaires",
    ]  # health professionals receive identity and cover only
    assert nir.encode() in render_access_json(data)


def test_it_holds_her_iban_from_the_mandate(alice):
    mandate = Mandate.objects.get(member=alice)
    data = build_access_export(alice.person)
    assert value_of(data, "billing.mandate", "iban") == mandate.iban
    assert value_of(data, "billing.mandate", "reference") == mandate.reference


def test_her_child_is_listed_as_held_under_her_contract(alice):
    data = build_access_export(alice.person)
    [child] = data["beneficiaries"]
    assert child["name"] == "Léo Martin"
    holder = "Léo Martin, bénéficiaire de votre contrat (enfant)"
    assert child["holder"] == holder
    assert value_of(data, "members.person", "first_names", holder) == "Léo"
    assert value_of(data, "members.person", "nir_holder", holder) == "Alice Martin"
    assert value_of(data, "members.beneficiary", "role", holder) == "Enfant"
    records = [r for r, _e in entries(data, holder=holder)]
    assert records and all(r["held_under_your_contract"] for r in records)
    assert not any(r["held_under_your_contract"] for r, _e in entries(data, holder=export.SELF))


def test_contract_data_carry_purposes_legal_basis_recipients_and_retention(alice):
    contract = Contract.objects.get(member=alice)
    data = build_access_export(alice.person)
    [(record, number)] = entries(data, model_code="contracts.contract", field_code="number")
    assert data["declaration"][record["model_code"]]["model"] == "contrat"
    assert number["category"] == catalogue.CONTRACT_DATA.code
    assert number["type"] == "string"
    assert number["field"] == "numéro de contrat"
    assert number["value"] == contract.number
    assert number["source"] == GENERATED
    assert number["purposes"] == [catalogue.CONTRACT.title]
    assert number["legal_bases"] == [
        {"article": "RGPD art. 6(1)(b)", "label": catalogue.CONTRACT.legal_basis.label}
    ]
    assert "Professionnels de santé" in number["recipients"]
    assert number["retention"] == catalogue.RETENTION_CONTRACT.summary
    assert value_of(data, "contracts.contract", "start_date") == contract.start_date.isoformat()
    assert value_of(data, "contracts.contract", "offer") == "Confort"
    assert value_of(data, "contracts.contract", "beneficiaries") == ["Léo Martin (enfant)"]
    _r, start = next(entries(data, field_code="start_date"))
    assert start["source"] == PROVIDED


def test_every_declared_field_of_each_record_is_there_with_its_information(alice, bob):
    """Each record holds every field its model declares in its category, and the declaration
    states for each what GDPR art. 15(1) requires, once."""
    history(alice, threads=1, staff=bob)
    data = json.loads(render_access_json(build_access_export(alice.person)))
    seen = set()
    for category in data["categories"]:
        for record in category["records"]:
            declaration = registry.get(record["model_code"])
            declared = {
                name
                for name, decl in declaration.fields.items()
                if decl.category.code == category["code"]
            }
            assert set(record["values"]) == declared, (record["model_code"], category["code"])
            assert set(record["erased"]) <= declared
            seen.add(record["model_code"])
    assert set(data["declaration"]) == seen
    assert {"members.person", "contact.message", "billing.mandate", "members.user"} <= seen
    order = [p.title for p in catalogue.ALL_PURPOSES]
    for model_code, model in data["declaration"].items():
        declaration = registry.get(model_code)
        assert model["model"] and set(model["fields"]) == set(declaration.fields)
        for name, info in model["fields"].items():
            decl = declaration.fields[name]
            assert info["field"] and info["type"]
            assert info["category"] == decl.category.code
            assert info["purposes"] == sorted((p.title for p in decl.purposes), key=order.index), (
                model_code,
                name,
            )
            assert info["legal_bases"] and all(
                b["article"] and b["label"] for b in info["legal_bases"]
            )
            assert info["recipients"] and info["retention"]
            assert info["source"] == (PROVIDED if decl.provided_by_subject else GENERATED)


def test_the_information_of_a_field_is_not_repeated_for_each_value(alice, bob):
    history(alice, threads=1, staff=bob)
    small = render_access_json(build_access_export(alice.person)).decode()
    history(alice, threads=5, staff=bob)
    large = render_access_json(build_access_export(alice.person)).decode()

    def bodies(body):
        return list(entries(json.loads(body), model_code="contact.message", field_code="body"))

    assert len(bodies(large)) == 6 * len(bodies(small)) > 0
    for text in (catalogue.INQUIRIES.title, catalogue.RETENTION_INQUIRIES.summary):
        assert small.count(text) == large.count(text) > 0


def test_blind_indexes_and_the_password_hash_are_listed_without_their_value(alice):
    data = render_access_json(build_access_export(alice.person)).decode()
    parsed = json.loads(data)
    assert value_of(parsed, "members.person", "nir_index") == INDEX_WITHHELD
    assert value_of(parsed, "members.user", "password") == PASSWORD_WITHHELD
    person = Person.objects.get(pk=alice.person.pk)
    assert person.nir_index not in data
    assert alice.account.password not in data


def test_fields_declared_not_personal_are_never_exported(alice):
    data = build_access_export(alice.person)
    for record, entry in entries(data):
        declaration = registry.get(record["model_code"])
        assert entry["field_code"] in declaration.fields
        assert entry["field_code"] not in declaration.not_personal


def test_every_exported_field_has_a_french_label():
    missing = [
        f"{plan.model._meta.label}.{field.name}"
        for plan in export.plans()
        for field in plan.fields
        if not export.has_french_label(
            plan.model._meta.label_lower, plan.model._meta.get_field(field.name)
        )
    ]
    assert not missing, "give them a verbose_name (or an entry in export.FIELD_LABELS)"


def test_every_personal_declaration_is_walked_or_explained():
    """A model declared with personal fields and no subject path would silently be missing."""
    walked = {plan.model._meta.label_lower for plan in export.plans()}
    for declaration in registry.all_declarations():
        if declaration.holds_personal_data and declaration.fields:
            label = declaration.model.lower()
            assert label in walked or label in NOT_WALKED, label


def test_times_are_in_the_mutuelle_zone_across_changes_of_offset():
    """The converter shifts naive UTC values by an offset looked up once per hour: it writes
    what a full time-zone conversion would, on both sides of a change and in its hour."""
    zone = zoneinfo.ZoneInfo("Europe/Paris")
    convert = datetime_converter(connection.alias, zone)
    moments = []
    for start in (datetime.datetime(2026, 3, 29), datetime.datetime(2026, 10, 25)):
        moments += [start + datetime.timedelta(minutes=7 * i, microseconds=i) for i in range(60)]
    moments += [datetime.datetime(2026, 3, 29, 1), datetime.datetime(2026, 10, 25, 0, 59, 59)]
    for moment in moments:
        aware = moment.replace(tzinfo=datetime.UTC)
        expected = aware.astimezone(zone).isoformat()
        if connection.vendor == "sqlite":  # naive UTC, as the driver gives them
            assert convert(moment) == expected, moment
        assert convert(aware) == expected, moment
    assert convert(None) is None


# --- Access: leaks, audit, disclosures, erasure ------------------------------------------------
def test_it_holds_no_data_of_dave(alice, dave, bob):
    history(alice, threads=1, staff=bob)
    history(dave, threads=1, staff=bob)
    dave_person = Person.objects.get(pk=dave.person.pk)
    mandate = Mandate.objects.get(member=dave)
    body = render_access_json(build_access_export(alice.person)).decode()
    for secret in (
        str(dave_person.pk),
        dave_person.nir,
        dave_person.email,
        "Dave",
        "Durand",
        dave.number,
        mandate.iban,
        mandate.reference,
        Contract.objects.get(member=dave).number,
        bob.email,
    ):
        assert secret not in body, secret


def test_audit_events_about_her_are_listed_with_roles_and_none_about_dave(alice, dave, bob):
    with transaction.atomic():
        audit.record(MembersTag.NIR_REVEAL, actor=bob, subject=alice.person, target=alice.person)
    members.record_login(account=alice.account)
    data = build_access_export(alice.person)
    sequence_all()
    data = build_access_export(alice.person)
    listed = {e["seq"] for e in data["audit_log"]["events"]}
    placed = Event.objects.filter(link__isnull=False)
    hers = set(placed.filter(subject_id=str(alice.person.pk)).values_list("link__seq", flat=True))
    his = set(placed.filter(subject_id=str(dave.person.pk)).values_list("link__seq", flat=True))
    assert listed == hers and his and not listed & his
    actors = {e["tag"]: e["actor"] for e in data["audit_log"]["events"]}
    assert actors[MembersTag.NIR_REVEAL] == (
        "personnel de la mutuelle (service Délégué à la protection des données)"
    )
    assert actors[MembersTag.ACCOUNT_LOGIN] == "vous"
    assert data["audit_log"]["purpose"] == catalogue.SECURITY_LOGGING.title


def test_disclosures_about_her_are_listed(alice, dave):
    audit.record_disclosure(
        recipient=catalogue.MANDATORY_SCHEMES,
        subject=alice.person,
        categories=[catalogue.IDENTITY, catalogue.ADMINISTRATIVE],
        reason="Télétransmission (contrat, RGPD art. 6(1)(b))",
    )
    audit.record_disclosure(
        recipient=catalogue.MANDATORY_SCHEMES,
        subject=dave.person,
        categories=[catalogue.IDENTITY],
        reason="Autre personne",
    )
    [disclosure] = build_access_export(alice.person)["disclosures"]
    assert disclosure["recipient"] == "Régimes obligatoires d'assurance maladie"
    assert disclosure["categories"] == ["Données administratives", "Identité"]
    assert disclosure["reason"].startswith("Télétransmission")


def test_after_shredding_the_export_shows_the_erased_marker(alice):
    vault.shred(alice.person)
    person = Person.objects.get(pk=alice.person.pk)
    data = build_access_export(person)
    for model_code, field_code in [
        ("members.person", "nir"),
        ("members.person", "birth_date"),
        ("billing.mandate", "iban"),
    ]:
        [(_record, entry)] = entries(data, model_code=model_code, field_code=field_code,
                                     holder=export.SELF)  # fmt: skip
        assert entry["value"] == ERASED_TEXT and entry["erased"]
    assert ERASED_TEXT in render_access_json(data).decode()
    html = render_to_string("rights/access_export.html", {"access": access_page_context(data)})
    assert f"<em>{ERASED_TEXT}</em>" in html


def test_general_information_of_article_15(alice):
    info = build_access_export(alice.person)["information"]
    codes = [p["code"] for p in info["purposes"]]
    assert catalogue.CONTRACT.code in codes and catalogue.SECURITY_LOGGING.code in codes
    assert info["cnil"]["url"] == "https://www.cnil.fr/fr/plaintes"
    rights = {r["right"] for r in info["rights"]}
    assert {"Accès", "Rectification", "Effacement", "Portabilité", "Opposition"} <= rights
    assert set(info["sources"]) == {PROVIDED, GENERATED}
    # Art. 15(1)(h) and 15(2), from the declaration: nothing of either is declared today.
    for purpose in info["purposes"]:
        assert purpose["transfers"] == NO_TRANSFER
        assert purpose["automated_decision"] == NO_AUTOMATED_DECISION


def test_json_is_utf8_with_sorted_keys(alice):
    body = render_access_json(build_access_export(alice.person))
    data = json.loads(body.decode("utf-8"))
    assert "Léo" in body.decode("utf-8")  # not \\u-escaped
    assert list(data) == sorted(data)
    assert data["schema"] == export.ACCESS_SCHEMA
    # The hand-laid renderer writes what the standard encoder would.
    assert data == json.loads(
        json.dumps(build_access_export(alice.person) | {"generated_at": data["generated_at"]})
    )


def test_the_html_include_renders_a_table_per_record_under_category_headings(alice):
    data = build_access_export(alice.person)
    html = render_to_string("rights/access_export.html", {"access": access_page_context(data)})
    assert '<h2 id="acces-identity">Identité</h2>' in html
    assert re.search(
        r'<caption id="acces-identity-\d+">Personne — Léo Martin, bénéficiaire de votre contrat '
        r"\(enfant\)</caption>",
        html,
    )
    # Each table scrolls inside a region the keyboard reaches, named by that caption.
    for region in re.finditer(
        r'<div class="table-scroll"([^>]*)>\s*<table[^>]*>\s*<caption id="([^"]+)"', html
    ):
        assert 'tabindex="0"' in region.group(1) and 'role="region"' in region.group(1)
        assert f'aria-labelledby="{region.group(2)}"' in region.group(1)
    assert html.count("<table") == html.count('class="table-scroll"')
    assert '<th scope="row">Numéro de sécurité sociale</th>' in html
    assert "12 avril 1985" in html  # alice's birth date, read by herself
    assert "Commission nationale de l&#x27;informatique et des libertés" in html
    assert "<dt>Transferts hors de l'Union européenne</dt><dd>Aucun : les destinataires" in html
    assert "<dt>Décisions automatisées</dt><dd>Aucune décision fondée exclusivement" in html


def test_the_number_of_queries_does_not_grow_with_the_rows(alice, bob):
    history(alice, threads=1, staff=bob)
    vault.clear_key_cache()
    with CaptureQueriesContext(connection) as small:
        render_access_json(build_access_export(alice.person))
    history(alice, threads=6, staff=bob)
    spouse = members.create_person(
        data=make_person_data(first_names="Paul", email="", with_nir=False)
    )
    beneficiary = members.add_beneficiary(member=alice, person=spouse, role="spouse")
    Contract.objects.get(member=alice).beneficiaries.add(beneficiary)
    vault.clear_key_cache()
    with CaptureQueriesContext(connection) as large:
        data = build_access_export(alice.person)
    assert len(data["beneficiaries"]) == 2
    assert len(list(entries(data, model_code="contact.message", field_code="body"))) == 14
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]


def test_the_number_of_queries_is_bounded(alice, bob, django_assert_max_num_queries):
    history(alice, threads=3, staff=bob)
    walked = len(export.plans())
    many = sum(f.kind == export.MANY for plan in export.plans() for f in plan.fields)
    # beneficiaries + one per model + many-to-many + audit events, their actors, disclosures
    with django_assert_max_num_queries(1 + walked + many + 3):
        build_access_export(alice.person)


# --- Portability -------------------------------------------------------------------------------
def _archive(person) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(portability_archive(person)))


def test_the_archive_has_a_json_and_a_csv_per_category_and_a_manifest(alice):
    archive = _archive(alice.person)
    names = set(archive.namelist())
    for code in ("identity", "contact", "administrative", "bank", "contract"):
        assert {f"{code}.json", f"{code}.csv"} <= names
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["schema_version"] == export.PORTABILITY_SCHEMA_VERSION
    assert manifest["generated_at"]
    assert {f["name"] for f in manifest["files"]} == names - {"manifest.json"}
    for item in manifest["files"]:
        assert hashlib.sha256(archive.read(item["name"])).hexdigest() == item["sha256"]


def test_the_archive_holds_only_provided_data_processed_on_contract_or_consent(alice, bob):
    history(alice, threads=1, staff=bob)
    archive = _archive(alice.person)
    seen = set()
    for name in archive.namelist():
        if not name.endswith(".json") or name == "manifest.json":
            continue
        document = json.loads(archive.read(name))
        assert document["category"] == name.removesuffix(".json")
        for record in document["records"]:
            declaration = registry.get(record["record_type"])
            for item in record["fields"]:
                decl = declaration.fields[item["field"]]
                assert decl.provided_by_subject, (record["record_type"], item["field"])
                assert {p.legal_basis for p in decl.purposes} & export.PORTABLE_BASES
                seen.add((record["record_type"], item["field"]))
    assert ("members.person", "nir") in seen and ("billing.mandate", "iban") in seen
    assert ("consent.consentevent", "topic") in seen  # a consent
    for generated in [
        ("members.member", "number"),
        ("contracts.contract", "number"),
        ("billing.mandate", "reference"),
        ("members.person", "nir_index"),
        ("members.user", "password"),
        ("contact.message", "body"),  # inquiries: legitimate interest, not portable
    ]:
        assert generated not in seen


def test_the_csv_files_parse_with_a_header_row(alice):
    archive = _archive(alice.person)
    identity = json.loads(archive.read("identity.json"))
    rows = list(csv.reader(io.StringIO(archive.read("identity.csv").decode("utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) - 1 == sum(len(r["fields"]) for r in identity["records"])
    by_field = {(r[3], r[5]): r[8] for r in rows[1:]}
    assert by_field[("self", "last_name")] == "Martin"
    assert by_field[("beneficiary", "first_names")] == "Léo"
    assert by_field[("self", "civility")] == "MME"  # codes, documented in docs/portability.md
    nir = Person.objects.get(pk=alice.person.pk).nir
    administrative = archive.read("administrative.csv").decode("utf-8")
    assert nir in administrative


# --- A field declared tomorrow is exported tomorrow --------------------------------------------
@pytest.fixture(scope="module")
def card_model(django_db_setup, django_db_blocker):
    from mutualis.rights.tests.exportapp import probe

    with django_db_blocker.unblock():
        with probe.installed() as model:
            yield model
        if not connection.in_atomic_block:
            connection.close()


def test_a_newly_declared_model_and_field_appear_with_no_code_change(card_model, alice, dave):
    card_model.objects.create(
        person=alice.person,
        card_number="TP-000123",
        pharmacy="Pharmacie des Lilas",
        filename="attestation.pdf",
        proof=b"%PDF-1.4 attestation",
    )
    card_model.objects.create(person=dave.person, card_number="TP-999999", pharmacy="Autre")
    data = build_access_export(alice.person)
    assert value_of(data, "rights.thirdpartycard", "card_number") == "TP-000123"
    assert value_of(data, "rights.thirdpartycard", "pharmacy") == "Pharmacie des Lilas"
    assert value_of(data, "rights.thirdpartycard", "proof") == {"name": "attestation.pdf",
                                                                "size": 20}  # fmt: skip
    [(_record, entry)] = entries(data, model_code="rights.thirdpartycard", field_code="pharmacy")
    assert data["declaration"]["rights.thirdpartycard"]["model"] == "carte de tiers payant"
    assert entry["field"] == "pharmacie habituelle"
    assert "TP-999999" not in render_access_json(data).decode()

    archive = _archive(alice.person)
    contract = json.loads(archive.read("contract.json"))
    [card] = [r for r in contract["records"] if r["record_type"] == "rights.thirdpartycard"]
    fields = {item["field"]: item["value"] for item in card["fields"]}
    assert fields["pharmacy"] == "Pharmacie des Lilas"
    assert "card_number" not in fields  # generated by the mutuelle: not portable
    assert archive.read(fields["proof"]["path"]) == b"%PDF-1.4 attestation"
