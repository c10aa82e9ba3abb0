"""Restriction (GDPR art. 18): storage only; the NIR and IBAN reveals refuse, a DPO override for
legal claims allows; lifting only after the person was told."""

from __future__ import annotations

import pytest

from mutualis.audit.models import Event
from mutualis.billing import services as billing
from mutualis.billing.models import Mandate
from mutualis.consent import services as consent
from mutualis.consent.models import Channel as ConsentChannel
from mutualis.consent.models import Source, Topic
from mutualis.members import services as members
from mutualis.privacy import catalogue, restrictions
from mutualis.privacy.models import Restriction
from mutualis.privacy.restrictions import ProcessingRestricted, RestrictionError
from mutualis.rights import objection, services
from mutualis.rights.models import Kind, RightsRequest, Status

pytestmark = pytest.mark.django_db
WHY = "Vérification d'un remboursement contesté"


def _restrict_all(client) -> Restriction:
    client.post("/espace/droits/limitation/", {"scope": ["*"], "ground": "accuracy"})
    return Restriction.objects.get()


def test_a_restriction_from_the_member_space_blocks_the_nir_and_iban_reveals(
    alice_client, alice, bob
):
    restriction = _restrict_all(alice_client)
    request = RightsRequest.objects.get(kind=Kind.RESTRICTION)
    assert request.status == Status.ANSWERED and "CNIL" in request.answer_text
    assert restriction.purpose == "*" and restriction.subject_id == str(alice.person.pk)
    with pytest.raises(ProcessingRestricted) as refused:
        members.reveal_nir(person=alice.person, actor=bob, reason=WHY)
    assert "seule leur conservation est permise" in str(refused.value)
    with pytest.raises(ProcessingRestricted):
        billing.reveal_iban(mandate=Mandate.objects.get(member=alice), actor=bob, reason=WHY)
    assert Event.objects.filter(tag="privacy:restriction:refuse").count() == 2
    assert not Event.objects.filter(tag="members:nir:reveal").exists()


def test_the_dpo_override_for_legal_claims_allows_the_use_it_names(alice_client, alice, bob):
    restriction = _restrict_all(alice_client)
    restrictions.allow_for_legal_claims(
        restriction=restriction,
        use="members:nir:reveal",
        reason="Contentieux n° 2026-114",
        actor=bob,
    )
    assert members.reveal_nir(person=alice.person, actor=bob, reason=WHY) == alice.person.nir
    assert Event.objects.filter(tag="privacy:restriction:override_use").count() == 1
    with pytest.raises(ProcessingRestricted):  # the IBAN was not named
        billing.reveal_iban(mandate=Mandate.objects.get(member=alice), actor=bob, reason=WHY)


def test_only_the_dpo_may_override(alice_client, charlie):
    restriction = _restrict_all(alice_client)
    with pytest.raises(RestrictionError):
        restrictions.allow_for_legal_claims(
            restriction=restriction, use="*", reason="Contentieux", actor=charlie
        )


def test_a_restriction_per_purpose_leaves_the_others_alone(alice_client, alice, bob):
    alice_client.post(
        "/espace/droits/limitation/", {"scope": ["communication"], "ground": "objection"}
    )
    assert restrictions.is_restricted(alice.person, catalogue.COMMUNICATION)
    assert not restrictions.is_restricted(alice.person, catalogue.CONTRACT)
    assert members.reveal_nir(person=alice.person, actor=bob, reason=WHY)
    restrictions.ensure_allowed(alice.person, purpose=catalogue.COMMUNICATION, use="storage")


def test_restricted_people_are_left_out_of_a_marketing_selection(alice_client, alice):
    consent.grant(
        person=alice.person,
        topic=Topic.NEWSLETTER,
        channel=ConsentChannel.EMAIL,
        source=Source.MEMBER_SPACE,
        actor=alice.account,
    )
    audience = consent.marketing_audience(topic=Topic.NEWSLETTER, channel=ConsentChannel.EMAIL)
    assert audience.filter(pk=alice.person.pk).exists()
    _restrict_all(alice_client)
    allowed = restrictions.exclude_restricted(audience, purpose=catalogue.COMMUNICATION)
    assert not allowed.filter(pk=alice.person.pk).exists()


def test_lifting_needs_the_notice_sent_first(alice_client, alice, bob, mailoutbox, committed):
    restriction = _restrict_all(alice_client)
    with pytest.raises(services.RightsError):
        objection.lift_restriction(restriction=restriction, actor=bob)
    with committed():
        objection.notify_restriction_lift(
            restriction=restriction,
            reason="Vos données ont été vérifiées et sont exactes.",
            actor=bob,
        )
    notice = mailoutbox[-1]
    assert notice.to == ["alice@example.org"] and "18(3)" in notice.body and "CNIL" in notice.body
    objection.lift_restriction(restriction=restriction, actor=bob)
    assert not restrictions.is_restricted(alice.person)
    assert members.reveal_nir(person=alice.person, actor=bob, reason=WHY)


def test_the_back_office_reveal_form_shows_the_refusal(alice_client, alice):
    from django.test import Client
    from django.urls import reverse

    from mutualis.backoffice.testing import login_verified
    from mutualis.backoffice.tests.conftest import make_staff

    _restrict_all(alice_client)
    gina = make_staff("gestion", "gina@mutuelle.example")
    staff = Client()
    login_verified(staff, gina, reauthenticated=True)
    url = reverse("backoffice:reveal_nir", args=[alice.pk, alice.person.pk])
    response = staff.post(url, {"reason": WHY})
    assert response.status_code == 200
    body = response.content.decode()
    assert "seule leur conservation est permise" in body
    assert alice.person.nir not in body
