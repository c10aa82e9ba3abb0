"""T12 before deployment: a change of the declaration that alters the privacy policy cannot ship
without a new dated version of the policy shipped with the code (privacy/shipped_policy.py).

When the first test fails, the policy your change generates differs from the version shipped:
run ``python manage.py publish_policy --ship``, read the difference (``git diff``) and commit
``mutualis/privacy/policy_shipped.html`` with your change.

No test here is allowed the database: shipping a version reads the declaration and writes a file,
nothing else.
"""

from __future__ import annotations

import datetime
import difflib
import io
import os
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from mutualis.privacy import policy, shipped_policy

TODAY = datetime.datetime(2027, 3, 1, 12, tzinfo=datetime.UTC)
SHIPPED = shipped_policy.PATH.relative_to(Path(django_settings.BASE_DIR)).as_posix()


def _difference(shipped: str, rendered: str, limit: int = 60) -> str:
    lines = list(
        difflib.unified_diff(
            shipped.splitlines(),
            rendered.splitlines(),
            "version livrée",
            "générée aujourd'hui",
            lineterm="",
            n=1,
        )
    )
    return "\n".join(
        lines[:limit] + ([f"… ({len(lines) - limit} more lines)"] * (len(lines) > limit))
    )


def test_the_policy_todays_declaration_renders_is_the_latest_version_shipped():
    shipped = shipped_policy.latest()
    assert shipped is not None, (
        f"No privacy policy is shipped with the code: run `{shipped_policy.SHIP_COMMAND}` and "
        f"commit {SHIPPED}."
    )
    rendered = shipped_policy.render()
    if rendered != shipped.body:
        overridden = [n for n in shipped_policy.DEPLOYMENT_SETTINGS if os.environ.get(n)]
        pytest.fail(
            "The privacy policy generated from today's declaration differs from the version "
            f"shipped on {shipped.date:%Y-%m-%d}. A change that alters what the policy says "
            f"ships with a new dated version: run `{shipped_policy.SHIP_COMMAND}`, read the "
            f"difference (git diff) and commit {SHIPPED} with your change."
            + (
                f" (The text is compared with the project's default settings: {overridden} "
                "is set in this environment.)"
                if overridden
                else ""
            )
            + "\n\n"
            + _difference(shipped.body, rendered),
            pytrace=False,
        )


def test_the_shipped_text_does_not_depend_on_the_deployments_identity(settings):
    before = shipped_policy.render()
    settings.MUTUALIS_ORGANISATION = {
        **settings.MUTUALIS_ORGANISATION,
        "name": "Mutuelle d'ailleurs",
        "dpo_email": "dpo@ailleurs.example",
    }
    assert shipped_policy.render() == before
    assert "[dpo_email]" in before and "Mutuelle d'ailleurs" not in before


@pytest.fixture
def shipped_file(tmp_path, monkeypatch):
    path = tmp_path / "policy_shipped.html"
    monkeypatch.setattr(shipped_policy, "PATH", path)
    return path


def ship(*args: str) -> str:
    out = io.StringIO()
    call_command("publish_policy", "--ship", *args, stdout=out)
    return out.getvalue()


def test_shipping_records_a_dated_version_once_and_again_when_the_policy_text_changes(
    shipped_file, monkeypatch
):
    with time_machine.travel(TODAY, tick=False):
        assert "Version livrée du 01/03/2027 enregistrée" in ship()
        assert shipped_file.read_text(encoding="utf-8").startswith(
            "<!-- Politique de confidentialité livrée avec le code : version du 2027-03-01 -->\n"
        )
        assert "Aucun changement" in ship()
        # What the policy says changes (here, the CNIL's telephone number): a new version.
        monkeypatch.setitem(policy.CNIL, "phone", "01 00 00 00 00")
        changed = shipped_policy.render()
        assert changed != shipped_policy.latest().body
        assert "Version livrée du 02/03/2027 enregistrée" in ship("--date", "2027-03-02")
    latest = shipped_policy.latest()
    assert latest.date == datetime.date(2027, 3, 2) and latest.body == changed


def test_a_shipped_version_cannot_be_dated_before_the_previous_one(shipped_file, monkeypatch):
    shipped_file.write_text(
        "<!-- Politique de confidentialité livrée avec le code : version du 2027-03-01 -->\n"
        "<p>Ancien texte</p>",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="doit suivre celle de la version livrée"):
        ship("--date", "2027-02-01")
    monkeypatch.setenv("SESSION_COOKIE_AGE", "3600")
    with pytest.raises(CommandError, match="retirez SESSION_COOKIE_AGE"):
        ship("--date", "2027-03-02")
    assert "Ancien texte" in shipped_file.read_text(encoding="utf-8")
