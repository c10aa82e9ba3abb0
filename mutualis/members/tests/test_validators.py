"""Validators at their edges, and property tests that no input string crashes them."""

from __future__ import annotations

import contextlib
import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from stdnum.fr import nir as stdnum_nir

from mutualis.members import validators as v


def _nir(body: str) -> str:
    """A NIR with its correct key, from its 13 first characters."""
    return body + stdnum_nir.calc_check_digits(body)


# --- NIR ------------------------------------------------------------------------------------
def test_it_accepts_a_valid_nir_with_spaces():
    assert v.validate_nir("2 95 10 99 126 111 93") == "295109912611193"


@pytest.mark.parametrize("nir", ["253072B07300470", _nir("185072A123456"), _nir("285072B123456")])
def test_it_accepts_corsican_nirs(nir):
    assert v.validate_nir(nir.lower()) == nir.upper()


def test_it_rejects_a_corsican_nir_with_the_key_of_the_wrong_department():
    body = "185072A123456"
    wrong = body.replace("2A", "2B") + stdnum_nir.calc_check_digits(body)
    with pytest.raises(ValidationError) as exc:
        v.validate_nir(wrong)
    assert exc.value.code == "nir_key"


def test_it_rejects_a_nir_with_a_wrong_key():
    with pytest.raises(ValidationError) as exc:
        v.validate_nir("295109912611194")
    assert exc.value.code == "nir_key"
    assert "clé" in exc.value.messages[0]


@pytest.mark.parametrize(
    "bad", ["", "29510991261119", "2951099126111934", "595109912611193", "2951099X2611193"]
)
def test_it_rejects_a_nir_of_the_wrong_shape(bad):
    with pytest.raises(ValidationError) as exc:
        v.validate_nir(bad)
    assert exc.value.code == "nir_format"


@pytest.mark.parametrize("month", [20, 30, 42, 50, 99])
def test_nir_months_above_12_are_legal_and_not_compared(month):
    nir = _nir(f"195{month:02d}75123456")
    assert v.validate_nir(nir, birth_date=datetime.date(1995, 3, 1), civility="M") == nir


def test_it_rejects_a_nir_whose_month_contradicts_the_birth_date():
    with pytest.raises(ValidationError) as exc:
        v.validate_nir("295109912611193", birth_date=datetime.date(1995, 11, 3))
    assert exc.value.code == "nir_month"


def test_it_rejects_a_nir_whose_year_contradicts_the_birth_date():
    with pytest.raises(ValidationError) as exc:
        v.validate_nir("295109912611193", birth_date=datetime.date(1996, 10, 3))
    assert exc.value.code == "nir_year"


def test_it_rejects_a_nir_whose_sex_contradicts_the_civility():
    with pytest.raises(ValidationError) as exc:
        v.validate_nir("295109912611193", civility="M")
    assert exc.value.code == "nir_sex"
    assert v.validate_nir("295109912611193", civility="MME")


def test_nir_is_masked_keeping_sex_birth_and_key():
    assert v.mask_nir("295109912611193") == "2 95 10 •• ••• ••• 93"
    assert v.mask_nir("court") == "•" * 15


# --- IBAN, BIC, ICS -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "iban",
    [
        "FR7630006000011234567890189",
        "fr76 3000 6000 0112 3456 7890 189",
        " FR76-3000 6000 0112 3456 7890 189",
    ],
)
def test_it_accepts_ibans_with_spaces_and_lower_case(iban):
    assert v.validate_iban(iban.replace("-", " ")) == "FR7630006000011234567890189"


def test_it_accepts_a_sepa_iban_outside_the_eu():
    assert v.validate_iban("CH9300762011623852957") == "CH9300762011623852957"


def test_it_rejects_a_non_sepa_iban():
    # A valid Brazilian IBAN: the checksum is right, but SEPA cannot debit it.
    with pytest.raises(ValidationError) as exc:
        v.validate_iban("BR1800360305000010009795493C1")
    assert exc.value.code == "iban_not_sepa"


def test_it_rejects_an_iban_with_a_wrong_checksum():
    with pytest.raises(ValidationError) as exc:
        v.validate_iban("FR7630006000011234567890188")
    assert exc.value.code == "iban_invalid"


def test_iban_is_masked():
    assert v.mask_iban("FR7630006000011234567890189") == "FR76 •••• •••• •••• •••• •••• 189"


def test_bic_and_creditor_identifier():
    assert v.validate_bic("bnpa fr pp") == "BNPAFRPP"
    with pytest.raises(ValidationError):
        v.validate_bic("BNP")
    assert v.validate_creditor_identifier("FR72ZZZ123456") == "FR72ZZZ123456"
    with pytest.raises(ValidationError):
        v.validate_creditor_identifier("FR00ZZZ123456")


# --- Phones, postal codes, scheme -----------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01 23 45 67 89", "+33123456789"),
        ("06.12.34.56.78", "+33612345678"),
        ("+33 7 12 34 56 78", "+33712345678"),
        ("0033612345678", "+33612345678"),
    ],
)
def test_it_normalises_french_phone_numbers(raw, expected):
    assert v.validate_phone(raw) == expected


@pytest.mark.parametrize("bad", ["0012345678", "01234", "+44 20 7946 0958", "abcdefghij"])
def test_it_rejects_other_phone_numbers(bad):
    with pytest.raises(ValidationError):
        v.validate_phone(bad)


def test_a_stored_phone_number_is_shown_in_pairs_of_digits():
    assert v.format_phone("+33612345678") == "06 12 34 56 78"


@pytest.mark.parametrize("good", ["75008", "01000", "20000", "97400", "98800"])
def test_it_accepts_french_postal_codes(good):
    assert v.validate_postal_code(good) == good


@pytest.mark.parametrize("bad", ["7500", "750080", "00100", "96000", "2A000", "99000"])
def test_it_rejects_malformed_postal_codes(bad):
    with pytest.raises(ValidationError):
        v.validate_postal_code(bad)


def test_scheme_code_has_2_3_4_digits():
    assert v.validate_scheme_code("01", "751", "0001") == ("01", "751", "0001")
    for parts in [("1", "751", "0001"), ("01", "75", "0001"), ("01", "751", "001")]:
        with pytest.raises(ValidationError):
            v.validate_scheme_code(*parts)


# --- No input string crashes a validator ----------------------------------------------------
@given(st.text())
def test_no_string_crashes_the_nir_validation(text):
    with contextlib.suppress(ValidationError):
        v.validate_nir(text, birth_date=datetime.date(1995, 10, 1), civility="MME")
    v.mask_nir(text)


@given(st.text())
def test_no_string_crashes_the_iban_validation(text):
    with contextlib.suppress(ValidationError):
        v.validate_iban(text)
    v.mask_iban(text)


@given(st.text())
def test_no_string_crashes_the_phone_and_postal_code_validation(text):
    for validate in (v.validate_phone, v.validate_postal_code, v.validate_bic):
        with contextlib.suppress(ValidationError):
            validate(text)


@given(st.text(alphabet="0123456789AB ", min_size=13, max_size=20))
def test_near_miss_nirs_never_crash(text):
    with contextlib.suppress(ValidationError):
        v.validate_nir(text)


# A Belgian account whose bank code is missing from python-stdnum's Belgian bank list: ISO 13616
# (length, structure, mod 97) accepts it, and so must every form, the import and the audit guard.
BELGIAN_IBAN = "BE68539007547034"


def test_a_valid_belgian_iban_is_accepted_even_if_its_bank_is_not_in_a_national_list():
    assert v.validate_iban("be68 5390 0754 7034") == BELGIAN_IBAN


def test_a_belgian_iban_with_a_wrong_checksum_is_still_refused():
    with pytest.raises(ValidationError) as exc:
        v.validate_iban("BE68539007547035")
    assert exc.value.code == "iban_invalid"


def test_an_iban_of_the_wrong_length_for_its_country_is_refused():
    with pytest.raises(ValidationError):
        v.validate_iban("BE6853900754703")


def test_the_audit_guard_recognises_a_belgian_iban():
    from mutualis.audit.services import holds_nir_or_iban

    assert holds_nir_or_iban(f"motif : compte {BELGIAN_IBAN} du débiteur")
    assert holds_nir_or_iban("BE68 5390 0754 7034")
