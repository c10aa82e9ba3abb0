"""Validation of the identifiers a member gives us, with French messages.

Libraries do the arithmetic (``python-stdnum``: NIR key, IBAN, BIC, SEPA creditor identifier);
this module adds the rules around them: consistency of a NIR with the birth date and civility,
the SEPA zone, French phone numbers and postal codes, the mandatory-scheme code. Every function
raises ``ValidationError`` (never anything else) on any input string.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.eu import at_02
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir as stdnum_nir

from mutualis.lib import iban as iso_iban

_SEPARATORS = re.compile(r"[\s.\-]")

# NIR first digit: 1 man, 2 woman; 3/4 (foreign-born, provisional) and 7/8 (provisional numbers)
# carry the sex the same way (odd: man, even: woman).
_MALE_DIGITS = {"1", "3", "7"}
_FEMALE_DIGITS = {"2", "4", "8"}

# Countries of the SEPA schemes (EPC409-09, "EPC list of countries in the SEPA schemes'
# geographical scope"), with the French overseas codes that also appear in IBANs.
SEPA_COUNTRIES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "
    "IS LI NO CH GB SM VA MC AD GI AL MD ME MK "
    "GF GP MQ RE YT PM BL MF".split()
)

CIVILITY_MALE = "M"
CIVILITY_FEMALE = "MME"


def normalize_nir(value: str) -> str:
    return _SEPARATORS.sub("", value or "").upper()


def validate_nir(
    value: str,
    *,
    birth_date: datetime.date | None = None,
    civility: str | None = None,
) -> str:
    """Return the compact NIR or raise ``ValidationError``.

    The key is checked by ``stdnum.fr.nir`` (Corsica: 2A → 19, 2B → 18). Where they apply, the
    sex digit must match the civility and the year and month the birth date; months 20–42 and
    above 50 are legal (birth month unknown), so they are not compared.
    """
    nir = normalize_nir(value)
    if not re.fullmatch(r"[1-478]\d{4}(\d{2}|2A|2B)\d{8}", nir):
        raise ValidationError(
            "Le numéro de sécurité sociale doit compter 15 caractères (13 chiffres et une clé "
            "de 2 chiffres), par exemple 2 95 10 99 126 111 93.",
            code="nir_format",
        )
    try:
        stdnum_nir.validate(nir)
    except StdnumError:
        raise ValidationError(
            "La clé du numéro de sécurité sociale ne correspond pas au numéro : vérifiez-le "
            "sur votre carte Vitale ou votre attestation de droits.",
            code="nir_key",
        ) from None
    sex = nir[0]
    if civility == CIVILITY_MALE and sex in _FEMALE_DIGITS:
        raise ValidationError(
            "Ce numéro de sécurité sociale est celui d'une femme, alors que la civilité "
            "indiquée est « Monsieur ».",
            code="nir_sex",
        )
    if civility == CIVILITY_FEMALE and sex in _MALE_DIGITS:
        raise ValidationError(
            "Ce numéro de sécurité sociale est celui d'un homme, alors que la civilité "
            "indiquée est « Madame ».",
            code="nir_sex",
        )
    if birth_date is not None:
        if int(nir[1:3]) != birth_date.year % 100:
            raise ValidationError(
                "L'année de naissance inscrite dans le numéro de sécurité sociale ne correspond "
                "pas à la date de naissance indiquée.",
                code="nir_year",
            )
        month = int(nir[3:5])
        if 1 <= month <= 12 and month != birth_date.month:
            raise ValidationError(
                "Le mois de naissance inscrit dans le numéro de sécurité sociale ne correspond "
                "pas à la date de naissance indiquée.",
                code="nir_month",
            )
    return nir


def mask_nir(value: str) -> str:
    """``2 95 10 •• ••• ••• 93``: sex, year and month of birth and the key stay readable."""
    nir = normalize_nir(value)
    if len(nir) != 15:
        return "•" * 15
    return f"{nir[0]} {nir[1:3]} {nir[3:5]} •• ••• ••• {nir[13:]}"


def validate_iban(value: str) -> str:
    """Return the compact IBAN (upper case, no spaces) of a SEPA-zone account.

    ISO 13616 (length, structure, mod 97) decides, not a national bank list
    (:mod:`mutualis.lib.iban`).
    """
    compact = stdnum_iban.compact(value or "")
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", compact):
        raise ValidationError(
            "L'IBAN doit commencer par le code pays et 2 chiffres de contrôle, par exemple "
            "FR76 3000 6000 0112 3456 7890 189.",
            code="iban_format",
        )
    try:
        iso_iban.validate(compact)
    except StdnumError:
        raise ValidationError(
            "Cet IBAN n'est pas valide : vérifiez-le sur votre relevé d'identité bancaire.",
            code="iban_invalid",
        ) from None
    if compact[:2] not in SEPA_COUNTRIES:
        raise ValidationError(
            "Le prélèvement SEPA exige un compte tenu dans un pays de la zone SEPA.",
            code="iban_not_sepa",
        )
    return compact


def mask_iban(value: str) -> str:
    """``FR76 •••• •••• •••• •••• ••• 189``: the country and the last three characters."""
    compact = stdnum_iban.compact(value or "")
    if len(compact) < 8:
        return "•" * 8
    hidden = "•" * (len(compact) - 7)
    grouped = " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))
    return f"{compact[:4]} {grouped} {compact[-3:]}"


def validate_bic(value: str) -> str:
    compact = _SEPARATORS.sub("", value or "").upper()
    try:
        return stdnum_bic.validate(compact)
    except StdnumError:
        raise ValidationError(
            "Le BIC doit compter 8 ou 11 caractères (par exemple BNPAFRPP).", code="bic"
        ) from None


def validate_creditor_identifier(value: str) -> str:
    """SEPA creditor identifier (ICS), e.g. ``FR72ZZZ123456`` (EPC262-08)."""
    try:
        return at_02.validate(value or "")
    except StdnumError:
        raise ValidationError(
            "L'identifiant créancier SEPA (ICS) n'est pas valide.", code="ics"
        ) from None


def validate_phone(value: str) -> str:
    """A French number, returned as ``+33XXXXXXXXX``; ``0X XX XX XX XX`` or ``+33 X…`` accepted."""
    compact = re.sub(r"[\s.\-()]", "", value or "")
    if compact.startswith("0033"):
        compact = "+33" + compact[4:]
    if re.fullmatch(r"0[1-9]\d{8}", compact):
        compact = "+33" + compact[1:]
    if not re.fullmatch(r"\+33[1-9]\d{8}", compact):
        raise ValidationError(
            "Le numéro de téléphone doit compter 10 chiffres (par exemple 01 23 45 67 89 ou "
            "+33 1 23 45 67 89).",
            code="phone",
        )
    return compact


def format_phone(phone: str) -> str:
    if re.fullmatch(r"\+33[1-9]\d{8}", phone or ""):
        national = "0" + phone[3:]
        return " ".join(national[i : i + 2] for i in range(0, 10, 2))
    return phone


def validate_postal_code(value: str) -> str:
    """A French postal code: 5 digits, department 01–95 or overseas 97x/98x."""
    compact = (value or "").strip()
    if not re.fullmatch(r"(0[1-9]|[1-8]\d|9[0-5])\d{3}|9[78]\d{3}", compact):
        raise ValidationError(
            "Le code postal doit compter 5 chiffres (par exemple 75008).", code="postal_code"
        )
    return compact


def validate_scheme_code(grand_regime: str, caisse: str, centre: str) -> tuple[str, str, str]:
    """Mandatory scheme: code grand régime (2 digits), caisse (3), centre (4)."""
    grand_regime, caisse, centre = (v.strip() if v else "" for v in (grand_regime, caisse, centre))
    if not re.fullmatch(r"\d{2}", grand_regime):
        raise ValidationError(
            "Le code grand régime compte 2 chiffres (01 pour le régime général, 02 pour la MSA…).",
            code="scheme_regime",
        )
    if not re.fullmatch(r"\d{3}", caisse):
        raise ValidationError("Le code caisse compte 3 chiffres.", code="scheme_caisse")
    if not re.fullmatch(r"\d{4}", centre):
        raise ValidationError("Le code centre compte 4 chiffres.", code="scheme_centre")
    return grand_regime, caisse, centre
