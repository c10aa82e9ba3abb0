"""Published policy versions are dated, immutable and each readable at its own URL."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mutualis.privacy import policy
from mutualis.privacy.models import PolicyVersion

pytestmark = pytest.mark.django_db

SEED_SECTIONS = [
    "Pourquoi traitons-nous vos données",
    "Combien de temps conservons-nous vos données",
    "Qui peut accéder à vos données",
    "Vos données sont-elles sécurisées",
    "Comment exercer vos droits",
    "Pouvez-vous retirer votre consentement",
    "Comment déposer une réclamation",
    "Gestion des cookies",
    "Espace adhérent",
]


def test_publishing_twice_without_change_creates_one_version():
    first, created = policy.publish(datetime.date(2026, 1, 1))
    again, created_again = policy.publish(datetime.date(2026, 2, 1))
    assert created and not created_again
    assert again == first
    assert PolicyVersion.objects.count() == 1


def test_a_new_version_keeps_the_old_one_readable_at_its_own_url(client, monkeypatch):
    policy.publish(datetime.date(2026, 1, 1))
    original = policy.render_policy_body
    monkeypatch.setattr(
        policy, "render_policy_body", lambda: original() + "<p>Nouvelle clause.</p>"
    )
    policy.publish(datetime.date(2026, 6, 30))

    current = client.get("/confidentialite/").content.decode()
    old = client.get("/confidentialite/2026-01-01/").content.decode()
    assert "Nouvelle clause." in current
    assert "30 juin 2026" in current
    assert "Nouvelle clause." not in old
    assert "version antérieure" in old
    assert "/confidentialite/2026-01-01/" in current


def test_a_version_cannot_be_dated_before_the_current_one(monkeypatch):
    policy.publish(datetime.date(2026, 6, 30))
    original = policy.render_policy_body
    monkeypatch.setattr(policy, "render_policy_body", lambda: original() + "<p>Ajout.</p>")
    with pytest.raises(ValueError, match="doit suivre"):
        policy.publish(datetime.date(2026, 1, 1))
    assert PolicyVersion.objects.count() == 1


def test_unknown_or_malformed_versions_answer_404(client):
    policy.publish(datetime.date(2026, 1, 1))
    assert client.get("/confidentialite/2020-01-01/").status_code == 404
    assert client.get("/confidentialite/pas-une-date/").status_code == 404


def test_the_policy_covers_every_section_of_the_published_policy(client):
    call_command("publish_policy", "--date", "2026-01-01", stdout=io.StringIO())
    page = client.get("/confidentialite/").content.decode()
    for heading in SEED_SECTIONS:
        assert heading in page
    assert "3 place de Fontenoy" in page  # the CNIL's contact, for complaints
    assert "au maximum 3 mois" in page  # e-mails kept three months at most


def test_publish_policy_command_rejects_a_bad_date():
    with pytest.raises(CommandError, match="Date invalide"):
        call_command("publish_policy", "--date", "30/06/2026", stdout=io.StringIO())


def test_without_any_published_version_the_page_shows_the_draft(client):
    response = client.get("/confidentialite/")
    assert response.status_code == 200
    assert "aucune version n'a encore été publiée" in response.content.decode()
