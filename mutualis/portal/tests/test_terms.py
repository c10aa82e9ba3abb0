"""Terms of use as dated versions, accepted again at the next visit; members told of a new policy
version by a banner and an e-mail with what changed."""

from __future__ import annotations

import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from mutualis.audit.models import Event
from mutualis.contracts import terms
from mutualis.contracts.models import AcceptanceChannel, CguVersion, TermsAcceptance
from mutualis.lib import textdiff
from mutualis.portal import access
from mutualis.privacy import policy

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=PARIS)


def test_a_subscription_keeps_the_acceptance_of_the_terms_with_its_channel(alice):
    acceptance = TermsAcceptance.objects.get(member=alice)
    assert acceptance.version == terms.current_cgu()
    assert acceptance.channel == AcceptanceChannel.SUBSCRIPTION
    assert terms.needs_acceptance(alice) is None


def test_publishing_unchanged_terms_creates_no_version(alice):
    version, created = terms.publish_cgu()
    assert not created and CguVersion.objects.count() == 1 and version == terms.current_cgu()


def test_new_terms_are_accepted_at_the_next_visit_and_the_acceptance_is_kept(
    alice, alice_client, settings
):
    old = terms.current_cgu()
    settings.MUTUALIS_ORGANISATION = {**settings.MUTUALIS_ORGANISATION, "name": "Mutuelle Nova"}
    with time_machine.travel(at(2030, 5, 1, 9), tick=False):
        new, created = terms.publish_cgu()
    assert created and new.effective_date == datetime.date(2030, 5, 1)

    response = alice_client.get("/espace/mes-donnees/")
    assert response.status_code == 302
    assert response["Location"] == "/espace/conditions/?suivant=%2Fespace%2Fmes-donnees%2F"
    page = alice_client.get(response["Location"]).content.decode()
    assert "ont changé depuis la version du" in page and "Mutuelle Nova" in page

    refused = alice_client.post("/espace/conditions/", {"suivant": "/espace/mes-donnees/"})
    assert "Cochez la case pour accepter les conditions." in refused.content.decode()
    assert terms.needs_acceptance(alice) == new

    before = timezone.now()
    done = alice_client.post(
        "/espace/conditions/", {"accept": "on", "suivant": "/espace/mes-donnees/"}
    )
    assert done["Location"] == "/espace/mes-donnees/"
    acceptance = TermsAcceptance.objects.get(member=alice, version=new)
    assert acceptance.channel == AcceptanceChannel.MEMBER_SPACE
    assert before <= acceptance.accepted_at <= timezone.now()
    assert TermsAcceptance.objects.filter(member=alice, version=old).exists()  # history stays
    assert Event.objects.filter(tag="contracts:cgu:accept", target__endswith=str(acceptance.pk))
    assert alice_client.get("/espace/mes-donnees/").status_code == 200


def test_a_foreign_next_address_is_never_followed(alice, alice_client, settings):
    settings.MUTUALIS_ORGANISATION = {**settings.MUTUALIS_ORGANISATION, "name": "Mutuelle Nova"}
    with time_machine.travel(at(2030, 5, 1, 9), tick=False):
        terms.publish_cgu()
    response = alice_client.post(
        "/espace/conditions/", {"accept": "on", "suivant": "https://ailleurs.example/"}
    )
    assert response["Location"] == "/espace/"


def test_each_version_stays_readable_at_its_own_url_and_is_linked(alice, alice_client, client):
    old = terms.current_cgu()
    assert old.slug in client.get("/conditions-generales/").content.decode()
    assert client.get(f"/conditions-generales/{old.slug}/").status_code == 200
    assert client.get("/conditions-generales/2001-01-01/").status_code == 404
    assert client.get("/conditions-generales/pas-une-date/").status_code == 404
    assert 'href="/conditions-generales/"' in client.get("/").content.decode()  # footer
    member_page = alice_client.get("/espace/").content.decode()
    assert 'href="/espace/conditions/"' in member_page


# --- A new policy version --------------------------------------------------------------------
@pytest.fixture
def new_policy(alice, settings):
    settings.MUTUALIS_ORGANISATION = {
        **settings.MUTUALIS_ORGANISATION,
        "dpo_email": "protection-donnees@mutuelle.example",
    }
    with time_machine.travel(at(2030, 6, 1, 9), tick=False):
        version, created = policy.publish()
    assert created
    return version


def test_members_see_a_banner_until_they_have_read_what_changed(alice, alice_client, new_policy):
    page = alice_client.get("/espace/").content.decode()
    assert "Notre politique de confidentialité évolue" in page
    assert f'href="/confidentialite/{new_policy.slug}/changements/"' in page
    alice_client.post("/espace/confidentialite/lue/", {"suivant": "/espace/"})
    assert (
        "Notre politique de confidentialité évolue"
        not in alice_client.get("/espace/").content.decode()
    )
    assert Event.objects.filter(tag="contracts:policy:seen").count() == 1


def test_the_changes_page_shows_a_readable_diff_of_the_two_versions(client, new_policy):
    page = client.get(f"/confidentialite/{new_policy.slug}/changements/").content.decode()
    assert "<del>" in page and "<ins>" in page
    assert "protection-donnees@mutuelle.example" in page
    assert (
        'href="/confidentialite/' + new_policy.slug + '/changements/"'
        in client.get("/confidentialite/").content.decode()
    )


def test_each_member_gets_one_email_with_what_changed(
    alice, dave, new_policy, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        out = io.StringIO()
        call_command("send_policy_notices", stdout=out)
    assert "2 avis envoyés" in out.getvalue()
    received = {m.rcpt_tos[0]: m for m in smtp_server.messages}
    assert set(received) == {"alice@example.org", "dave@example.org"}
    body = received["alice@example.org"].body
    assert "protection-donnees@mutuelle.example" in body and "Désormais" in body
    assert f"/confidentialite/{new_policy.slug}/changements/" in body
    smtp_server.clear()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_policy_notices", stdout=io.StringIO())
    assert smtp_server.messages == []  # once each


def test_the_first_policy_ever_needs_no_notice(alice):
    assert terms.pending_policy_notice(alice) is None
    assert terms.send_policy_notices(link=lambda v: "")[1] == 0


def test_the_diff_pairs_reworded_passages_and_lists_additions():
    before = "<h2>Durée</h2><p>Trois ans.</p><ul><li>Un</li></ul>"
    after = "<h2>Durée</h2><p>Deux ans.</p><ul><li>Un</li><li>Deux</li></ul>"
    diff = textdiff.compare(before, after)
    assert [(c.kind, c.before, c.after) for c in diff.changes] == [
        ("changed", "Trois ans.", "Deux ans."),
        ("added", "", "Deux"),
    ]
    assert "Avant : Trois ans." in diff.as_text()


# --- The check every page of the member space makes ---------------------------------------------
def _both(member):
    """The member space's compiled check, and the terms module's own."""
    return access.pending_of(member), terms.pending_of(member)


def test_the_pages_check_answers_as_the_terms_module_when_nothing_is_pending(alice):
    assert _both(alice) == (terms.Pending(None, None), terms.Pending(None, None))


def test_the_pages_check_names_new_terms_until_they_are_accepted(alice, settings):
    settings.MUTUALIS_ORGANISATION = {**settings.MUTUALIS_ORGANISATION, "name": "Mutuelle Nova"}
    with time_machine.travel(at(2030, 5, 1, 9), tick=False):
        new, _ = terms.publish_cgu()
    assert _both(alice) == (terms.Pending(new, None), terms.Pending(new, None))
    terms.accept_cgu(member=alice, channel=AcceptanceChannel.MEMBER_SPACE)
    assert _both(alice) == (terms.Pending(None, None), terms.Pending(None, None))


def test_the_pages_check_names_a_new_policy_until_it_is_read(alice, new_policy):
    assert _both(alice) == (terms.Pending(None, new_policy), terms.Pending(None, new_policy))
    terms.mark_policy_seen(member=alice, version=new_policy)
    assert _both(alice) == (terms.Pending(None, None), terms.Pending(None, None))


def test_a_member_without_a_contract_is_told_of_a_policy_that_follows_another(alice, new_policy):
    alice.contracts.all().delete()
    assert _both(alice) == (terms.Pending(None, new_policy), terms.Pending(None, new_policy))
    assert terms.pending_policy_notice(alice) == new_policy


def test_a_member_without_a_contract_is_told_nothing_of_the_first_policy_ever(alice):
    alice.contracts.all().delete()
    assert _both(alice) == (terms.Pending(None, None), terms.Pending(None, None))


def test_the_check_of_every_page_is_one_query(alice, django_assert_num_queries):
    access.pending_of(alice)  # written once per process, then only run
    with django_assert_num_queries(1):
        assert access.pending_of(alice) == terms.Pending(None, None)
