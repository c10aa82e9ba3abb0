"""Generators of valid synthetic identifiers, for tests, demo data and benchmarks.

They make numbers that pass every check (NIR key, RIB key, IBAN checksum) without belonging to
anyone: the order number and account numbers are random.
"""

from __future__ import annotations

import datetime
import random

from stdnum import iban as stdnum_iban
from stdnum.fr import nir as stdnum_nir

from mutualis.members.validators import CIVILITY_FEMALE


def make_nir(
    *,
    civility: str,
    birth_date: datetime.date,
    department: str = "75",
    rng: random.Random | None = None,
) -> str:
    rng = rng or random.Random()
    sex = "2" if civility == CIVILITY_FEMALE else "1"
    commune = f"{rng.randint(1, 999):03d}"
    order = f"{rng.randint(1, 999):03d}"
    body = f"{sex}{birth_date:%y}{birth_date:%m}{department}{commune}{order}"
    return body + stdnum_nir.calc_check_digits(body)


def make_french_iban(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    bank = rng.randint(10000, 99999)
    branch = rng.randint(10000, 99999)
    account = rng.randint(10**9, 10**11 - 1)
    rib_key = 97 - ((89 * bank + 15 * branch + 3 * account) % 97)
    bban = f"{bank:05d}{branch:05d}{account:011d}{rib_key:02d}"
    return "FR" + stdnum_iban.calc_check_digits("FR00" + bban) + bban
