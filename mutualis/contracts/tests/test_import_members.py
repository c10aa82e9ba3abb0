"""manage.py import_members: the legacy-system migration, row by row all or nothing."""

from __future__ import annotations

import csv
import datetime
import io
import json
import random
import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from mutualis.audit.models import Event
from mutualis.audit.services import holds_nir_or_iban
from mutualis.billing.models import Mandate
from mutualis.contracts.application import Lookups, check_application
from mutualis.contracts.member_import import rows as import_rows
from mutualis.contracts.member_import import run as importing
from mutualis.contracts.member_import.csv_format import (
    BENEFICIARY_FIELDS,
    MEMBER_COLUMNS,
    OPTIONAL_COLUMNS,
)
from mutualis.contracts.models import Contract
from mutualis.contracts.testing import ensure_offers, make_application, make_person_data
from mutualis.members.models import Beneficiary, Member, Person
from mutualis.members.testing import make_french_iban, make_nir
from mutualis.privacy.policy import publish

pytestmark = pytest.mark.django_db

COLUMNS = [
    *MEMBER_COLUMNS,
    *OPTIONAL_COLUMNS,
    *(f"beneficiary{k}_{name}" for k in (1, 2) for name in BENEFICIARY_FIELDS),
]
NON_SEPA_IBAN = "TR330006100519786457841326"  # valid check digits, Turkey is outside SEPA


@pytest.fixture(autouse=True)
def offers_and_policy():
    ensure_offers()
    publish()


@pytest.fixture
def rng():
    return random.Random(42)


def member_row(reference: str, rng: random.Random, *, beneficiaries=(), **overrides) -> dict:
    birth = datetime.date(1980, 5, 17)
    row = {
        "legacy_reference": reference,
        "civility": "MME",
        "last_name": "Martin",
        "first_names": "Claire",
        "birth_date": birth.isoformat(),
        "email": f"{reference.lower()}@example.org",
        "address_line1": "3 rue des Écoles",
        "postal_code": "69003",
        "city": "Lyon",
        "phone_mobile": "06 12 34 56 78",
        "nir": make_nir(civility="MME", birth_date=birth, department="69", rng=rng),
        "scheme_regime": "01",
        "scheme_caisse": "691",
        "scheme_centre": "0001",
        "scheme_organisation": "CPAM du Rhône",
        "offer_code": "confort",
        "start_date": "2019-01-01",
        "iban": make_french_iban(rng),
        "debtor_name": "Claire Martin",
        "signed_place": "Lyon",
        "cgu_version": "2018-03",
    }
    for k, beneficiary in enumerate(beneficiaries, start=1):
        row.update({f"beneficiary{k}_{name}": value for name, value in beneficiary.items()})
    row.update(overrides)
    return row


def spouse(rng: random.Random, **overrides) -> dict:
    birth = datetime.date(1978, 11, 2)
    return {
        "role": "conjoint",
        "civility": "M",
        "last_name": "Martin",
        "first_names": "Paul",
        "birth_date": birth.isoformat(),
        "nir": make_nir(civility="M", birth_date=birth, rng=rng),
        "attached": "non",
        **overrides,
    }


def child(*, attached: bool = True, rng: random.Random | None = None, **overrides) -> dict:
    birth = datetime.date(timezone.localdate().year - 9, 3, 15)
    return {
        "role": "enfant",
        "civility": "M",
        "last_name": "Martin",
        "first_names": "Léo",
        "birth_date": birth.isoformat(),
        "nir": "" if attached else make_nir(civility="M", birth_date=birth, rng=rng),
        "attached": "oui" if attached else "non",
        **overrides,
    }


def write_csv(path: Path, rows: list[dict], *, delimiter=",", bom=False, columns=COLUMNS) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, delimiter=delimiter, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(path: Path, *args: str) -> str:
    """The command's output; a run with rejections ends on exit code 3, after its summary."""
    out = io.StringIO()
    try:
        call_command("import_members", str(path), *args, stdout=out)
    except CommandError as exc:
        if exc.returncode != 3:
            raise
        assert "rejetés : 0" not in out.getvalue()
    else:
        assert "rejetés : 0" in out.getvalue()
    return out.getvalue()


def test_rejected_rows_end_the_command_on_a_non_zero_exit_and_keep_the_report(tmp_path, rng):
    rows = [member_row("A1", rng), member_row("A2", rng, offer_code="inconnue")]
    path = write_csv(tmp_path / "members.csv", rows)
    with pytest.raises(CommandError, match="1 ligne rejetée :") as exc:
        call_command("import_members", str(path), stdout=io.StringIO())
    assert exc.value.returncode == 3
    assert Member.objects.filter(legacy_reference="A1").exists()  # the good row is imported
    assert report(tmp_path / "members.rejets.csv")[0]["colonne"] == "offer_code"


def report(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def test_it_imports_every_row_with_its_beneficiaries_contract_and_encrypted_mandate(tmp_path, rng):
    rows = [
        member_row("LEG-1", rng, beneficiaries=[spouse(rng), child(attached=True)]),
        member_row("LEG-2", rng, beneficiaries=[child(attached=False, rng=rng)]),
        member_row("LEG-3", rng, offer_code="serenite"),
    ]
    out = run(write_csv(tmp_path / "members.csv", rows))

    assert "importés : 3" in out and "rejetés : 0" in out
    assert Member.objects.count() == 3 and Contract.objects.count() == 3
    assert Beneficiary.objects.count() == 3 and Mandate.objects.count() == 3
    member = Member.objects.select_related("person").get(legacy_reference="LEG-1")
    assert member.person.nir == rows[0]["nir"]
    assert member.person.birth_date == datetime.date(1980, 5, 17)
    assert member.person.phone_mobile == "+33612345678"
    assert member.account is None  # no account, no e-mail: they come later
    assert mail.outbox == []
    # The blind index was computed by the import: the NIR is found, and its key is there.
    assert Person.objects.with_nir(rows[0]["nir"]).get() == member.person
    contract = member.contracts.get()
    assert contract.start_date == datetime.date(2019, 1, 1)  # a legacy contract began earlier
    assert contract.cgu_version == "2018-03" and contract.policy_version_id is not None
    assert sorted(contract.beneficiaries.values_list("role", flat=True)) == ["child", "spouse"]
    attached = contract.beneficiaries.get(role="child").person
    assert attached.nir is None and attached.nir_holder == member.person
    mandate = member.mandates.get()
    assert mandate.iban == rows[0]["iban"] and mandate.data_key_id == member.person.data_key_id
    # Only ciphertext in the database columns.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nir, birth_date FROM members_person")
        stored = b"".join(bytes(value) for row in cursor.fetchall() for value in row if value)
        cursor.execute("SELECT iban FROM billing_mandate")
        stored += b"".join(bytes(row[0]) for row in cursor.fetchall())
    for row in rows:
        assert row["nir"].encode() not in stored and row["iban"].encode() not in stored
    assert b"1980-05-17" not in stored


def test_each_batch_and_the_run_are_audited_by_ids_only(tmp_path, rng):
    rows = [member_row(f"LEG-{i}", rng) for i in range(5)]
    run(write_csv(tmp_path / "members.csv", rows), "--batch-size", "2")

    batches = list(Event.objects.filter(tag="contracts:import:batch").order_by("id"))
    assert [e.details["batch"] for e in batches] == [1, 2, 3]
    created = [member_id for e in batches for member_id in e.details["members"]]
    assert sorted(created) == sorted(str(pk) for pk in Member.objects.values_list("pk", flat=True))
    summary = Event.objects.get(tag="contracts:import:run")
    assert summary.details["imported"] == 5 and summary.details["dry_run"] is False
    dump = " ".join(str(e.details) for e in Event.objects.all())
    for row in rows:
        assert row["nir"] not in dump and row["iban"] not in dump and row["email"] not in dump
    call_command("audit_verify", stdout=io.StringIO())  # the chain is intact


def test_the_report_gives_line_column_and_reason_and_never_a_nir_or_iban(tmp_path, rng, alice):
    shared_nir = make_nir(civility="MME", birth_date=datetime.date(1980, 5, 17), rng=rng)
    good = member_row("OK-1", rng)
    wrong_key = member_row("BAD-KEY", rng)
    wrong_key["nir"] = wrong_key["nir"][:13] + f"{(int(wrong_key['nir'][13:]) % 97) + 1:02d}"
    rows = [
        good,  # line 2
        wrong_key,  # line 3
        member_row("NON-SEPA", rng, iban=NON_SEPA_IBAN),  # line 4
        member_row("FUTURE", rng, birth_date="2999-01-01"),  # line 5
        member_row("NO-OFFER", rng, offer_code="platine"),  # line 6
        member_row("TWIN-A", rng, nir=shared_nir),  # line 7
        member_row("TWIN-B", rng, nir=shared_nir),  # line 8
        member_row("KNOWN", rng, nir=alice.person.nir, birth_date="1985-04-12"),  # line 9
    ]
    report_path = tmp_path / "rejets.csv"
    out = run(write_csv(tmp_path / "members.csv", rows), "--report", str(report_path))

    assert "importés : 1" in out and "rejetés : 7" in out
    lines = report(report_path)
    problems = {(int(r["ligne"]), r["colonne"]) for r in lines}
    assert {(3, "nir"), (4, "iban"), (5, "birth_date"), (6, "offer_code")} <= problems
    assert {(7, "nir"), (8, "nir"), (9, "nir")} <= problems
    by_line = {int(r["ligne"]): r for r in lines}
    assert "clé" in by_line[3]["motif"] and "SEPA" in by_line[4]["motif"]
    assert "ligne 8" in by_line[7]["motif"] and "ligne 7" in by_line[8]["motif"]
    assert "déjà enregistré" in by_line[9]["motif"]
    assert by_line[6]["reference_ancienne"] == "NO-OFFER"
    text = report_path.read_text(encoding="utf-8-sig")
    assert not holds_nir_or_iban(text)
    for row in rows:
        assert row["nir"] not in text and row["iban"] not in text
    assert Member.objects.filter(legacy_reference__isnull=False).count() == 1


def test_a_row_with_a_bad_beneficiary_creates_nothing_of_that_row(tmp_path, rng):
    bad_child = child(attached=True, birth_date="1960-01-01")  # 28 or older: not a child
    rows = [
        member_row("LEG-1", rng, beneficiaries=[spouse(rng), bad_child]),
        member_row("LEG-2", rng, beneficiaries=[spouse(rng)]),
    ]
    report_path = tmp_path / "rejets.csv"
    run(write_csv(tmp_path / "members.csv", rows), "--report", str(report_path))

    assert not Member.objects.filter(legacy_reference="LEG-1").exists()
    assert Person.objects.count() == 2  # LEG-2 and its spouse only
    assert Contract.objects.count() == 1 and Mandate.objects.count() == 1
    assert {(r["ligne"], r["colonne"]) for r in report(report_path)} == {
        ("2", "beneficiary2_birth_date")
    }


def test_running_the_same_file_again_imports_nothing_twice(tmp_path, rng):
    path = write_csv(tmp_path / "members.csv", [member_row(f"LEG-{i}", rng) for i in range(3)])
    run(path)
    out = run(path)

    assert "importés : 0" in out and "déjà importés : 3" in out and "rejetés : 0" in out
    assert Member.objects.count() == 3 and Person.objects.count() == 3


def test_a_batch_refused_by_the_database_is_replayed_row_by_row(tmp_path, rng, alice, monkeypatch):
    # A subscription made online between the check and the write (simulated: the check does
    # not see alice's NIR): the unique blind index refuses the batch, then that row alone.
    monkeypatch.setattr(importing._Importer, "_registered_nir_indexes", lambda self, i: set())
    rows = [
        member_row("LEG-1", rng),
        member_row("LEG-2", rng, nir=alice.person.nir, birth_date="1985-04-12"),
        member_row("LEG-3", rng),
    ]
    report_path = tmp_path / "rejets.csv"
    out = run(write_csv(tmp_path / "members.csv", rows), "--report", str(report_path))

    assert "importés : 2" in out and "rejetés : 1" in out and "ligne à ligne : 1" in out
    assert set(
        Member.objects.exclude(legacy_reference=None).values_list("legacy_reference", flat=True)
    ) == {"LEG-1", "LEG-3"}
    assert Person.objects.count() == 2 + 2  # alice and her child, then LEG-1 and LEG-3
    assert [r["ligne"] for r in report(report_path)] == ["3"]
    event = Event.objects.get(tag="contracts:import:batch")
    assert event.details["replayed_row_by_row"] is True and event.details["imported"] == 2


def test_missing_columns_stop_the_import_before_anything_is_written(tmp_path, rng):
    columns = [c for c in COLUMNS if c not in ("nir", "iban")]
    rows = [{k: v for k, v in member_row("LEG-1", rng).items() if k in columns}]
    path = write_csv(tmp_path / "members.csv", rows, columns=columns)

    with pytest.raises(CommandError, match="colonnes manquantes : nir, iban"):
        run(path)
    assert Member.objects.count() == 0
    assert not Event.objects.filter(tag__startswith="contracts:import").exists()


def test_an_unknown_column_is_refused(tmp_path, rng):
    rows = [member_row("LEG-1", rng, phone_mobil="0612345678")]
    path = write_csv(tmp_path / "members.csv", rows, columns=[*COLUMNS, "phone_mobil"])

    with pytest.raises(CommandError, match="colonnes inconnues : phone_mobil"):
        run(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path, rng):
    path = tmp_path / "members.csv"
    write_csv(path, [member_row("LEG-1", rng, city="Orléans")])
    path.write_bytes(path.read_bytes().decode("utf-8").encode("latin-1"))

    with pytest.raises(CommandError, match="UTF-8"):
        run(path)
    assert Member.objects.count() == 0


def test_semicolons_a_byte_order_mark_and_french_dates_are_read(tmp_path, rng):
    rows = [
        member_row(
            "LEG-1",
            rng,
            birth_date="17/05/1980",
            start_date="01/02/2020",
            beneficiaries=[spouse(rng, birth_date="02/11/1978")],
        )
    ]
    out = run(write_csv(tmp_path / "members.csv", rows, delimiter=";", bom=True))

    assert "importés : 1" in out
    member = Member.objects.get(legacy_reference="LEG-1")
    assert member.person.birth_date == datetime.date(1980, 5, 17)
    assert member.contracts.get().start_date == datetime.date(2020, 2, 1)
    assert member.beneficiaries.get().person.birth_date == datetime.date(1978, 11, 2)


def test_an_unreadable_date_or_a_broken_line_rejects_that_row_only(tmp_path, rng):
    path = write_csv(
        tmp_path / "members.csv",
        [member_row("LEG-1", rng, birth_date="31/02/1980"), member_row("LEG-2", rng)],
    )
    with path.open("a", encoding="utf-8") as handle:
        handle.write("LEG-3,MME,Durand\n")  # line 4: three cells only
    report_path = tmp_path / "rejets.csv"
    out = run(path, "--report", str(report_path))

    assert "importés : 1" in out and "rejetés : 2" in out
    lines = report(report_path)
    assert (lines[0]["ligne"], lines[0]["colonne"]) == ("2", "birth_date")
    assert "AAAA-MM-JJ ou JJ/MM/AAAA" in lines[0]["motif"]
    assert lines[1]["ligne"] == "4" and "3 champs" in lines[1]["motif"]


def test_a_legacy_reference_that_is_a_nir_is_refused_and_not_repeated(tmp_path, rng):
    row = member_row("x", rng)
    row["legacy_reference"] = row["nir"]
    report_path = tmp_path / "rejets.csv"
    run(write_csv(tmp_path / "members.csv", [row]), "--report", str(report_path))

    assert Member.objects.count() == 0
    assert report(report_path)[0]["colonne"] == "legacy_reference"
    assert row["nir"] not in report_path.read_text(encoding="utf-8-sig")


def test_a_legacy_reference_given_twice_keeps_the_first_row(tmp_path, rng):
    rows = [member_row("LEG-1", rng), member_row("LEG-1", rng, first_names="Anne")]
    report_path = tmp_path / "rejets.csv"
    run(write_csv(tmp_path / "members.csv", rows), "--report", str(report_path))

    assert Member.objects.get().person.first_names == "Claire"
    assert "ligne 2" in report(report_path)[0]["motif"]


def test_a_dry_run_checks_everything_and_writes_no_member(tmp_path, rng):
    rows = [member_row("LEG-1", rng), member_row("LEG-2", rng, offer_code="platine")]
    report_path = tmp_path / "rejets.csv"
    out = run(write_csv(tmp_path / "members.csv", rows), "--dry-run", "--report", str(report_path))

    assert "à importer (simulation) : 1" in out and "rejetés : 1" in out
    assert Member.objects.count() == 0 and Person.objects.count() == 0
    assert [r["ligne"] for r in report(report_path)] == ["3"]
    assert Event.objects.get(tag="contracts:import:run").details["dry_run"] is True


def test_the_report_goes_next_to_the_file_by_default(tmp_path, rng):
    run(write_csv(tmp_path / "members.csv", [member_row("LEG-1", rng, offer_code="x")]))
    assert report(tmp_path / "members.rejets.csv")[0]["colonne"] == "offer_code"


def test_the_lookups_apply_the_same_rules_as_the_database_queries(alice):
    application = make_application(member=make_person_data(email="eve@example.org"))
    application.member.nir = alice.person.nir
    application.offer_code = "platine"
    lookups = Lookups(
        offer_codes=frozenset({"essentielle", "confort", "serenite"}),
        nir_is_registered=lambda nir: nir == alice.person.nir,
    )
    assert check_application(application, lookups=lookups) == check_application(application)


def test_only_an_imported_contract_may_have_started_in_the_past():
    application = make_application(start_date=datetime.date(2019, 1, 1))
    fields = {p.field for p in check_application(application)}
    assert "start_date" in fields
    assert "start_date" not in {p.field for p in check_application(application, imported=True)}


def test_without_a_published_privacy_policy_nothing_is_imported(tmp_path, rng):
    from mutualis.privacy.models import PolicyVersion

    PolicyVersion.objects.all().delete()
    with pytest.raises(CommandError, match="politique de confidentialité"):
        run(write_csv(tmp_path / "members.csv", [member_row("LEG-1", rng)]))
    assert Member.objects.count() == 0


def test_a_report_that_cannot_be_written_stops_before_any_import(tmp_path, rng):
    path = write_csv(tmp_path / "members.csv", [member_row("LEG-1", rng)])
    with pytest.raises(CommandError, match="rapport des rejets"):
        run(path, "--report", str(tmp_path / "missing-dir" / "rejets.csv"))
    assert Member.objects.count() == 0


def test_a_trailing_delimiter_as_spreadsheets_write_it_is_accepted(tmp_path, rng):
    path = tmp_path / "members.csv"
    row = member_row("LEG-1", rng)
    lines = [";".join(COLUMNS) + ";", ";".join(row.get(c, "") for c in COLUMNS) + ";"]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")

    assert "importés : 1" in run(path)


def test_a_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="introuvable"):
        run(tmp_path / "absent.csv")


def test_a_record_id_that_contains_an_iban_shaped_run_does_not_stop_the_import(
    tmp_path, rng, monkeypatch
):
    # "de64-4169-8478-7123373014e4" without its hyphens is a valid IBAN: the batch's audit event
    # lists such ids, and must still be accepted.
    looks_like_an_iban = uuid.UUID("a68c3dcb-de64-4169-8478-7123373014e4")
    drawn = iter([uuid.uuid4(), looks_like_an_iban])  # the person's id, then the member's

    class Ids:
        UUID = uuid.UUID

        @staticmethod
        def uuid4():
            return next(drawn, None) or uuid.uuid4()

    monkeypatch.setattr(import_rows, "uuid", Ids)
    out = run(write_csv(tmp_path / "members.csv", [member_row("LEG-1", rng)]))

    assert "importés : 1" in out
    event = Event.objects.get(tag="contracts:import:batch")
    assert str(looks_like_an_iban) in json.dumps(event.details) + event.subject_id + event.target


def test_a_row_paid_from_a_belgian_account_is_imported(tmp_path, rng):
    out = run(
        write_csv(tmp_path / "members.csv", [member_row("LEG-BE", rng, iban="BE68539007547034")])
    )
    assert "importés : 1" in out and "rejetés : 0" in out
    assert Member.objects.get(legacy_reference="LEG-BE").mandates.get().iban == "BE68539007547034"
