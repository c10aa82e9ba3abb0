"""The demo gives the demo members a few choices, once."""

from __future__ import annotations

import pytest

from mutualis.consent import demo, services
from mutualis.consent.models import ConsentEvent, MarketingObjection
from mutualis.contracts import demo as contracts_demo
from mutualis.members.models import Person

pytestmark = pytest.mark.django_db


def test_the_demo_is_idempotent():
    contracts_demo.load()
    assert demo.load() == []
    counts = (ConsentEvent.objects.count(), MarketingObjection.objects.count())
    assert counts[0] > 0 and counts[1] == 1
    assert demo.load() == []
    assert (ConsentEvent.objects.count(), MarketingObjection.objects.count()) == counts
    alice = Person.objects.get(email="alice@example.org")
    preferences = services.current_preferences(alice)
    assert preferences[("newsletter", "email")] and not preferences[("offers", "email")]
    marc = Person.objects.get(email="marc@example.org")
    assert services.has_objected_to_marketing(marc)


def test_without_the_members_it_does_nothing():
    assert demo.load() == []
    assert not ConsentEvent.objects.exists()
