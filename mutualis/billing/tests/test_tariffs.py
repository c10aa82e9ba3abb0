"""A new year's rates: refused whole when a band is missing or a value is wrong, recorded as a
dated table otherwise, the months already scheduled computed again and announced."""

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mutualis.audit.models import Event
from mutualis.billing.models import Instalment, PreNotification
from mutualis.billing.testing import cycle_on, on, subscribed_on
from mutualis.contracts.models import PremiumRate

pytestmark = pytest.mark.django_db

NOV = datetime.date(2026, 11, 2)
NEXT_YEAR = datetime.date(2027, 1, 1)


def _csv(tmp_path, rows, name="tarifs.csv"):
    path = tmp_path / name
    path.write_text("offre;age_min;age_max;montant\n" + "\n".join(rows) + "\n")
    return str(path)


FULL = ["confort;0;19;30,00", "confort;20;39;55,00", "confort;40;59;70,00", "confort;60;130;99,00"]


def test_a_new_table_recomputes_next_year_and_the_change_is_announced(tmp_path):
    contract = subscribed_on(datetime.date(2026, 10, 1))
    cycle_on(NOV)  # next year's schedule, announced with this year's rates
    january = Instalment.objects.get(contract=contract, month=NEXT_YEAR)
    old = january.amount
    with on(datetime.date(2026, 11, 10)):
        call_command("import_rates", _csv(tmp_path, FULL), "--from", "2027-01-01")
    january.refresh_from_db()
    assert january.amount != old
    assert PremiumRate.objects.filter(effective_from=NEXT_YEAR).count() == 4
    assert Event.objects.filter(tag="billing:tariff:import").count() == 1
    cycle_on(datetime.date(2026, 11, 11))
    latest = PreNotification.objects.filter(collection_date=datetime.date(2027, 1, 5)).latest(
        "created_at"
    )
    assert latest.amount == january.amount  # members are told before it applies
    # December keeps this year's rate.
    december = Instalment.objects.get(contract=contract, month=datetime.date(2026, 12, 1))
    assert december.amount == old


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (FULL[:-1], "après 59"),
        (["confort;0;19;30,00", "confort;21;130;55,00"], "de 20 à 20"),
        (["confort;0;19;30,00", "confort;19;130;55,00"], "dans deux tranches"),
        (["confort;0;130;-3"], "non valable"),
        (["confort;0;130;abc"], "illisible"),
        (["confort;0;130;1e400"], "non valable"),
        (["confort;0;200;30"], "impossible"),
        (["inconnue;0;130;30"], "Formule inconnue"),
    ],
)
def test_a_wrong_table_is_refused_whole_in_french(tmp_path, rows, message):
    subscribed_on(datetime.date(2026, 10, 1))
    with on(datetime.date(2026, 11, 10)), pytest.raises(CommandError, match=message):
        call_command("import_rates", _csv(tmp_path, rows), "--from", "2027-01-01")
    assert not PremiumRate.objects.filter(effective_from=NEXT_YEAR).exists()


def test_a_table_for_the_past_or_twice_for_a_date_is_refused(tmp_path):
    subscribed_on(datetime.date(2026, 10, 1))
    with on(datetime.date(2026, 11, 10)):
        with pytest.raises(CommandError, match="date future"):
            call_command("import_rates", _csv(tmp_path, FULL), "--from", "2026-11-01")
        call_command("import_rates", _csv(tmp_path, FULL), "--from", "2027-01-01")
        with pytest.raises(CommandError, match="existe déjà"):
            call_command("import_rates", _csv(tmp_path, FULL), "--from", "2027-01-01")
        with pytest.raises(CommandError, match="introuvable"):
            call_command("import_rates", str(tmp_path / "absent.csv"), "--from", "2027-01-01")
