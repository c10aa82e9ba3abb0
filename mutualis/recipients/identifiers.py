"""Identifiers of the organisations that receive data, validated with French messages.

- FINESS (Fichier national des établissements sanitaires et sociaux): 9 characters, the
  department (2 characters, ``2A``/``2B`` for Corsica), 6 digits and a check key. The key is
  the Luhn (mod 10) digit of the first eight characters, as the FINESS nomenclature of the
  ministry of health describes the number ("structure du numéro FINESS", DREES);
  python-stdnum computes it (``stdnum.luhn``) but does not know FINESS itself. For Corsica the
  department is read as ``20`` in the computation: that convention is not confirmed by a
  primary text, so a Corsican number whose key fails is refused with the same message.
- Numéro d'identification Assurance Maladie of a health professional or a pharmacy: 9 digits, the
  department (2), the profession code (1), a sequence (5) and a Luhn key, the same check as FINESS
  (CNAM, cahier des charges SESAM-Vitale, "numéro d'identification du professionnel de santé").
- A mandatory scheme's organisation: code grand régime (2 digits) and caisse (3 digits).
- An authority: optionally its SIRET, checked by ``stdnum.fr.siret``.

Every function returns the compact form or raises ``ValidationError``; never anything else.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret

_SEPARATORS = re.compile(r"[\s.\-]")


class IdentifierType(models.TextChoices):
    FINESS = "finess", "numéro FINESS"
    AM = "am", "numéro Assurance Maladie"
    SCHEME = "scheme", "code de l'organisme (grand régime et caisse)"
    SIRET = "siret", "numéro SIRET"
    NONE = "none", "sans identifiant"


def compact(value: str) -> str:
    return _SEPARATORS.sub("", value or "").upper()


def _luhn_ok(digits: str) -> bool:
    try:
        luhn.validate(digits)
    except StdnumError:
        return False
    return True


def validate_finess(value: str) -> str:
    number = compact(value)
    if not re.fullmatch(r"(\d{2}|2A|2B)\d{7}", number):
        raise ValidationError(
            "Le numéro FINESS compte 9 caractères : le département (2 caractères, 2A ou 2B pour "
            "la Corse), 6 chiffres et une clé, par exemple 750000010.",
            code="finess_format",
        )
    digits = number.replace("2A", "20").replace("2B", "20")
    if not _luhn_ok(digits):
        raise ValidationError(
            "La clé du numéro FINESS ne correspond pas au numéro : vérifiez-le.",
            code="finess_key",
        )
    return number


def validate_am_number(value: str) -> str:
    number = compact(value)
    if not re.fullmatch(r"\d{9}", number):
        raise ValidationError(
            "Le numéro Assurance Maladie compte 9 chiffres (département, code de la "
            "profession, numéro d'ordre et clé).",
            code="am_format",
        )
    if not _luhn_ok(number):
        raise ValidationError(
            "La clé du numéro Assurance Maladie ne correspond pas au numéro : vérifiez-le.",
            code="am_key",
        )
    return number


def validate_scheme_code(value: str) -> str:
    number = compact(value)
    if not re.fullmatch(r"\d{5}", number):
        raise ValidationError(
            "Le code d'un organisme de régime obligatoire compte 5 chiffres : le code grand "
            "régime (2, par exemple 01 pour le régime général) puis le code caisse (3).",
            code="scheme_format",
        )
    return number


def validate_siret(value: str) -> str:
    try:
        return siret.validate(compact(value))
    except StdnumError:
        raise ValidationError(
            "Le numéro SIRET compte 14 chiffres et sa clé doit être exacte.", code="siret"
        ) from None


VALIDATORS = {
    IdentifierType.FINESS: validate_finess,
    IdentifierType.AM: validate_am_number,
    IdentifierType.SCHEME: validate_scheme_code,
    IdentifierType.SIRET: validate_siret,
}


def validate(kind: str, value: str) -> str:
    """The compact identifier of type ``kind``; empty for ``none``."""
    if kind == IdentifierType.NONE:
        return ""
    validator = VALIDATORS.get(kind)
    if validator is None:
        raise ValidationError("Type d'identifiant inconnu.", code="identifier_type")
    return validator(value)


def finess_key(first_eight: str) -> str:
    """The check key of a FINESS (or Assurance Maladie) number's first eight characters."""
    return luhn.calc_check_digit(first_eight.replace("2A", "20").replace("2B", "20"))
