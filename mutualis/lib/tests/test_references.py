import datetime

import pytest

from mutualis.contact import models as contact
from mutualis.contact.models import Channel, Inquiry
from mutualis.rights import models as rights
from mutualis.rights.processing import request_from_member_space

pytestmark = pytest.mark.django_db


def _inquiry(**fields) -> Inquiry:
    inquiry = Inquiry(
        channel=Channel.EMAIL,
        subject="Une question",
        answer_due=datetime.date(2026, 12, 20),
        **fields,
    )
    inquiry.save()
    return inquiry


def test_an_inquiry_reference_already_taken_is_drawn_again(monkeypatch):
    first = _inquiry()
    draws = iter(["D26-0000ABCD"])
    monkeypatch.setattr(contact, "new_reference", lambda: next(draws))

    second = _inquiry(reference=first.reference)

    assert second.reference == "D26-0000ABCD"
    assert Inquiry.objects.count() == 2


def test_a_rights_request_reference_already_taken_is_drawn_again(monkeypatch, alice, dave):
    first = request_from_member_space(member=alice, kind="access")
    field = rights.RightsRequest._meta.get_field("reference")
    monkeypatch.setitem(field.__dict__, "_get_default", lambda: first.reference)  # collides
    monkeypatch.setattr(rights, "new_reference", lambda: "DR26-0000ABCD")

    second = request_from_member_space(member=dave, kind="access")

    assert second.reference == "DR26-0000ABCD"
