"""The member-space page « Mes préférences » (/espace/preferences/)."""

from __future__ import annotations

import pytest

from mutualis.consent import services
from mutualis.consent.models import ConsentEvent, MarketingObjection, Source, Topic

pytestmark = pytest.mark.django_db

PAGE = "/espace/preferences/"
OBJECT = "/espace/preferences/opposition/"


def _all_unchecked() -> dict[str, str]:
    return {}


def _checked(*names: str) -> dict[str, str]:
    return dict.fromkeys(names, "on")


# --- Who may open it ---------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "url"), [("get", PAGE), ("post", PAGE), ("post", OBJECT)])
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, alice, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"] == f"/espace/connexion/?next={url}"
    assert not ConsentEvent.objects.exists() and not MarketingObjection.objects.exists()


@pytest.mark.parametrize("staff", ["bob", "charlie"])
@pytest.mark.parametrize(("method", "url"), [("get", PAGE), ("post", PAGE), ("post", OBJECT)])
def test_a_staff_account_is_refused(client, alice, staff, method, url, request):
    client.force_login(request.getfixturevalue(staff))
    response = getattr(client, method)(url, _checked("offers_email"))
    assert response.status_code == 403
    assert not ConsentEvent.objects.exists() and not MarketingObjection.objects.exists()


def test_the_page_is_never_cached(alice_client):
    assert "no-store" in alice_client.get(PAGE)["Cache-Control"]


def test_the_objection_url_takes_post_only(alice_client, alice):
    assert alice_client.get(OBJECT).status_code == 405
    assert not services.has_objected_to_marketing(alice.person)


# --- What it shows -----------------------------------------------------------------------------
def test_alice_sees_her_current_choices_and_her_history_only(alice_client, alice, dave):
    services.grant(person=alice.person, topic="surveys", channel="post", source=Source.LETTER)
    services.grant(person=dave.person, topic="offers", channel="sms", source=Source.PHONE)
    response = alice_client.get(PAGE)
    assert response.status_code == 200
    form = response.context["form"]
    assert form["surveys_post"].value() is True
    assert form["offers_sms"].value() is False
    body = response.content.decode()
    assert 'name="surveys_post" id="id_surveys_post" checked' in body
    assert "Par courrier" in body and "Enquêtes de satisfaction" in body
    history = list(response.context["history"])
    assert [(e.topic, e.channel, e.action, e.source) for e in history] == [
        ("surveys", "post", "granted", "letter")
    ]
    assert "Accord donné" in body
    assert "Dave" not in body and "Durand" not in body
    assert "Appel téléphonique" not in body  # dave's source


def test_there_is_one_box_per_topic_and_channel(alice_client):
    form = alice_client.get(PAGE).context["form"]
    boxes = [name for name, field in form.fields.items() if not field.widget.is_hidden]
    assert len(boxes) == 9
    assert {name.split("_")[0] for name in boxes} == {t.value for t in Topic}


def test_the_nav_links_to_the_page(alice_client):
    body = alice_client.get("/espace/").content.decode()
    assert f'href="{PAGE}"' in body


# --- What it does ------------------------------------------------------------------------------
def test_one_post_grants_and_withdraws_what_changed(alice_client, alice):
    services.grant(person=alice.person, topic="surveys", channel="post", source=Source.LETTER)
    response = alice_client.post(PAGE, _checked("newsletter_email", "offers_sms"))
    assert response.status_code == 302
    assert response["Location"] == PAGE
    state = services.current_preferences(alice.person)
    assert {key for key, on in state.items() if on} == {
        ("newsletter", "email"),
        ("offers", "sms"),
    }
    latest = ConsentEvent.objects.filter(source=Source.MEMBER_SPACE)
    assert sorted(latest.values_list("topic", "channel", "action")) == [
        ("newsletter", "email", "granted"),
        ("offers", "sms", "granted"),
        ("surveys", "post", "withdrawn"),
    ]
    assert set(latest.values_list("actor", flat=True)) == {f"user:{alice.account.pk}"}
    grant = latest.get(topic="newsletter")
    assert grant.notice.text.startswith("J'accepte de recevoir la lettre d'information")
    page = alice_client.get(PAGE).content.decode()
    assert "Vos préférences de communication sont enregistrées." in page


def test_unchecking_everything_withdraws_in_the_same_single_post(alice_client, alice):
    alice_client.post(PAGE, _checked("newsletter_email", "offers_post"))
    response = alice_client.post(PAGE, _all_unchecked())
    assert response.status_code == 302
    assert not any(services.current_preferences(alice.person).values())
    assert ConsentEvent.objects.filter(action="withdrawn").count() == 2


def test_saving_without_changes_records_nothing(alice_client, alice):
    alice_client.post(PAGE, _checked("surveys_sms"))
    count = ConsentEvent.objects.count()
    alice_client.post(PAGE, _checked("surveys_sms"))
    assert ConsentEvent.objects.count() == count
    assert "Aucune modification" in alice_client.get(PAGE).content.decode()


def test_one_click_objects_to_all_marketing(alice_client, alice):
    alice_client.post(PAGE, _checked("newsletter_email", "offers_sms", "surveys_email"))
    response = alice_client.post(OBJECT, follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    body = response.content.decode()
    assert "Votre opposition est enregistrée" in body
    assert "Je m&#x27;oppose à toute prospection" not in body  # replaced by its status
    assert services.has_objected_to_marketing(alice.person)
    assert MarketingObjection.objects.get().source == Source.MEMBER_SPACE
    state = services.current_preferences(alice.person)
    assert {key for key, on in state.items() if on} == {("surveys", "email")}
    assert not services.marketing_audience(topic="offers", channel="sms").exists()


def test_ticking_a_marketing_box_again_lifts_the_objection(alice_client, alice):
    alice_client.post(OBJECT)
    assert "Vous vous opposez à toute prospection" in alice_client.get(PAGE).content.decode()
    alice_client.post(PAGE, _checked("newsletter_post"))
    assert not services.has_objected_to_marketing(alice.person)
    assert list(services.marketing_audience(topic="newsletter", channel="post")) == [alice.person]


# --- Tampering and garbage -------------------------------------------------------------------
def _ids_of(member) -> dict[str, str]:
    return {
        "person": str(member.person.pk),
        "person_id": str(member.person.pk),
        "id": str(member.person.pk),
        "pk": str(member.pk),
        "member": str(member.pk),
        "user": str(member.account.pk),
    }


def test_posting_dave_s_ids_only_ever_changes_alice(alice_client, alice, dave):
    services.grant(person=dave.person, topic="offers", channel="email", source=Source.PHONE)
    dave_before = services.current_preferences(dave.person)
    alice_client.post(PAGE, {**_checked("newsletter_sms"), **_ids_of(dave)})
    alice_client.post(OBJECT, _ids_of(dave))
    assert services.current_preferences(dave.person) == dave_before
    assert not services.has_objected_to_marketing(dave.person)
    assert ConsentEvent.objects.filter(person=dave.person).count() == 1
    assert services.has_objected_to_marketing(alice.person)


@pytest.mark.parametrize(
    "data",
    [
        {"newsletter_email": "x" * 10_000},
        {"newsletter_email": ["on", "off", ""]},
        {"offers_fax": "on", "spam_email": "on", "": "on"},
        {"newsletter_email": "\x00"},
        {"surveys_post": "false", "offers_post": "0"},
        {"newsletter_email": "on", "csrfmiddlewaretoken": "garbage"},
    ],
)
def test_garbage_never_answers_500(alice_client, alice, data):
    response = alice_client.post(PAGE, data)
    assert response.status_code == 302
    recorded = set(ConsentEvent.objects.values_list("topic", "channel"))
    assert recorded <= set(services.current_preferences(alice.person))
    assert not ConsentEvent.objects.exclude(person=alice.person).exists()


def test_false_means_unchecked(alice_client, alice):
    alice_client.post(PAGE, {"surveys_post": "false", "offers_post": ""})
    assert not ConsentEvent.objects.exists()


@pytest.mark.parametrize("page", ["abc", "0", "-1", "99999", "1" * 50, ""])
def test_a_garbage_history_page_never_answers_500(alice_client, page):
    assert alice_client.get(PAGE, {"page": page}).status_code == 200


def test_the_history_is_paginated(alice_client, alice):
    for _ in range(30):
        services.grant(person=alice.person, topic="surveys", channel="sms", source=Source.LETTER)
    first = alice_client.get(PAGE)
    assert len(first.context["history"]) == 25
    second = alice_client.get(PAGE, {"page": 2})
    assert len(second.context["history"]) == 5
