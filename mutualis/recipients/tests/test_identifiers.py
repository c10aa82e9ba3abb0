"""The organisations' identifiers: FINESS (Corsica included), Assurance Maladie number, scheme
code and SIRET, each refused with a French message when its shape or its key is wrong."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from mutualis.recipients import identifiers
from mutualis.recipients.identifiers import IdentifierType


def _refused(validator, value: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validator(value)
    return caught.value


@pytest.mark.parametrize(
    ("value", "compact"),
    [
        ("750000010", "750000010"),
        ("75 000 001 0", "750000010"),
        ("130000011", "130000011"),
        ("2A0000016", "2A0000016"),
        ("2b0000032", "2B0000032"),
        ("2B-000-003-2", "2B0000032"),
    ],
    ids=["paris", "spaced", "marseille", "corse-du-sud", "haute-corse lower case", "dashes"],
)
def test_a_finess_number_with_its_key_is_accepted_in_compact_form(value, compact):
    assert identifiers.validate_finess(value) == compact


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("750000011", "finess_key"),
        ("2A0000017", "finess_key"),
        ("2B0000031", "finess_key"),
        ("75000001", "finess_format"),
        ("7500000100", "finess_format"),
        ("2C0000016", "finess_format"),
        ("A20000016", "finess_format"),
        ("75000001X", "finess_format"),
        ("", "finess_format"),
    ],
    ids=[
        "wrong key",
        "corse-du-sud wrong key",
        "haute-corse wrong key",
        "8 characters",
        "10 characters",
        "no department 2C",
        "letter first",
        "letter key",
        "empty",
    ],
)
def test_a_finess_number_with_a_wrong_shape_or_key_is_refused_in_french(value, code):
    error = _refused(identifiers.validate_finess, value)
    assert error.code == code
    assert "FINESS" in error.messages[0]


def test_the_corsican_departments_count_as_20_in_the_finess_key():
    assert identifiers.finess_key("2A000001") == identifiers.finess_key("20000001") == "6"
    assert identifiers.finess_key("2B000003") == "2"


@pytest.mark.parametrize("value", ["751001231", "75 100 123 1"])
def test_an_assurance_maladie_number_with_its_key_is_accepted(value):
    assert identifiers.validate_am_number(value) == "751001231"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("751001232", "am_key"),
        ("75100123", "am_format"),
        ("7510012311", "am_format"),
        ("2A1001231", "am_format"),
        ("", "am_format"),
    ],
    ids=["wrong key", "8 digits", "10 digits", "corsican letters", "empty"],
)
def test_an_assurance_maladie_number_with_a_wrong_shape_or_key_is_refused(value, code):
    error = _refused(identifiers.validate_am_number, value)
    assert error.code == code and "Assurance Maladie" in error.messages[0]


@pytest.mark.parametrize("value", ["01751", "01 751", "02123"])
def test_a_scheme_code_is_five_digits(value):
    assert identifiers.validate_scheme_code(value) == value.replace(" ", "")


@pytest.mark.parametrize("value", ["0175", "017510", "01A51", ""])
def test_a_scheme_code_of_another_shape_is_refused(value):
    error = _refused(identifiers.validate_scheme_code, value)
    assert error.code == "scheme_format" and "5 chiffres" in error.messages[0]


@pytest.mark.parametrize("value", ["73282932000074", "732 829 320 00074", "35600000000048"])
def test_a_siret_with_its_key_is_accepted(value):
    assert identifiers.validate_siret(value) == value.replace(" ", "")


@pytest.mark.parametrize(
    "value", ["73282932000075", "7328293200007", "732829320000744", "7328293200007A", ""]
)
def test_a_siret_with_a_wrong_key_or_length_is_refused(value):
    error = _refused(identifiers.validate_siret, value)
    assert error.code == "siret" and "SIRET" in error.messages[0]


def test_validate_dispatches_by_type_and_an_authority_may_have_no_identifier():
    assert identifiers.validate(IdentifierType.FINESS, "750000010") == "750000010"
    assert identifiers.validate(IdentifierType.AM, "751001231") == "751001231"
    assert identifiers.validate(IdentifierType.SCHEME, "01751") == "01751"
    assert identifiers.validate(IdentifierType.SIRET, "73282932000074") == "73282932000074"
    assert identifiers.validate(IdentifierType.NONE, "n'importe quoi") == ""
    assert _refused(lambda v: identifiers.validate("rpps", v), "1").code == "identifier_type"
