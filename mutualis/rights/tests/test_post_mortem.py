"""Post-mortem directives (Loi 78-17 art. 85): recorded from the member space, applied when the
death is recorded; heirs without directives."""

from __future__ import annotations

import datetime

import pytest

from mutualis.members.models import User
from mutualis.privacy import restrictions
from mutualis.rights import post_mortem, processing, services
from mutualis.rights.models import (
    Capacity,
    Channel,
    Kind,
    PostMortemDirective,
    ProofOfDeath,
    Status,
)

pytestmark = pytest.mark.django_db
DIRECTIVE = {
    "scope": "specific",
    "instructions": "Effacer mes données et prévenir ma sœur.",
    "designated_name": "Claire Martin",
    "designated_email": "claire@example.org",
}


def test_directives_are_recorded_from_the_member_space(alice_client, alice):
    alice_client.post("/espace/droits/directives/", DIRECTIVE)
    directive = PostMortemDirective.objects.get(person=alice.person)
    assert directive.designated_email == "claire@example.org"
    page = alice_client.get("/espace/droits/directives/").content.decode()
    assert "prévenir ma sœur" in page and "Claire Martin" in page
    # New directives of the same scope replace the old ones.
    alice_client.post("/espace/droits/directives/", {**DIRECTIVE, "instructions": "Tout effacer."})
    assert PostMortemDirective.objects.in_force().get().instructions == "Tout effacer."


def test_recording_the_death_emails_the_designated_person(
    alice_client, alice, bob, mailoutbox, committed
):
    alice_client.post("/espace/droits/directives/", DIRECTIVE)
    with committed():
        _death, applied = post_mortem.record_death(
            person=alice.person,
            date=datetime.date(2026, 11, 1),
            proof_type=ProofOfDeath.CERTIFICATE,
            actor=bob,
        )
    [mail] = [m for m in mailoutbox if "claire@example.org" in m.to]
    assert "prévenir ma sœur" in mail.body and "Alice Martin" in mail.body
    assert "1 novembre 2026" in mail.body and "CNIL" in mail.body
    assert applied[0].applied_at is not None
    assert not User.objects.get(pk=alice.account_id).is_active
    with pytest.raises(services.RightsError):
        post_mortem.record_death(
            person=alice.person,
            date=datetime.date(2026, 11, 1),
            proof_type=ProofOfDeath.CERTIFICATE,
            actor=bob,
        )


def test_without_directives_an_heir_may_close_the_account_and_object(alice, bob, committed):
    post_mortem.record_death(
        person=alice.person,
        date=datetime.date(2026, 11, 1),
        proof_type=ProofOfDeath.SCHEME,
        actor=bob,
    )
    with committed():
        request = services.file_request(
            kind=Kind.POST_MORTEM,
            person=alice.person,
            requester_name="Luc Martin",
            requester_email="luc@example.org",
            requester_capacity=Capacity.HEIR,
            channel=Channel.LETTER,
            details={"heir_actions": ["close_account", "object"]},
            identity_verified=True,
            identity_method="document",
            identity_note="Acte de notoriété",
            actor=bob,
        )
        request = processing.process(request=request, actor=bob)
    assert request.status == Status.ANSWERED and "CNIL" in request.answer_text
    assert restrictions.is_restricted(alice.person)


def test_an_heir_is_refused_when_the_deceased_left_directives(alice_client, alice, bob):
    alice_client.post("/espace/droits/directives/", DIRECTIVE)
    post_mortem.record_death(
        person=alice.person,
        date=datetime.date(2026, 11, 1),
        proof_type=ProofOfDeath.NOTARY,
        actor=bob,
    )
    request = services.file_request(
        kind=Kind.POST_MORTEM,
        person=alice.person,
        requester_name="Luc Martin",
        requester_email="luc@example.org",
        requester_capacity=Capacity.HEIR,
        channel=Channel.LETTER,
        details={"heir_actions": ["object"]},
        identity_verified=True,
        actor=bob,
    )
    request = processing.process(request=request, actor=bob)
    assert request.status == Status.REFUSED and "désignée" in request.answer_text


def test_alice_revokes_her_directives_but_not_dave_s(alice_client, alice, dave, client):
    dave_directive = post_mortem.record_directive(
        person=dave.person, scope="general", instructions="Tout effacer, merci."
    )
    response = alice_client.post(f"/espace/droits/directives/{dave_directive.pk}/revoquer/")
    assert response.status_code == 404
    alice_client.post("/espace/droits/directives/", DIRECTIVE)
    mine = PostMortemDirective.objects.get(person=alice.person)
    alice_client.post(f"/espace/droits/directives/{mine.pk}/revoquer/")
    mine.refresh_from_db()
    dave_directive.refresh_from_db()
    assert mine.revoked_at is not None and dave_directive.revoked_at is None
