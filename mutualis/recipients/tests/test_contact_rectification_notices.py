"""A member who corrects their own contact details in the member space exercises GDPR art. 16:
every organisation that received those data gets its art. 19 notice, in the transaction of the
correction, and the member is told who (never an authority whose requisition is secret)."""

from __future__ import annotations

import pytest

from mutualis.members.models import Person
from mutualis.partners.tests.helpers import body_for, check
from mutualis.portal.views.contact import SOURCE
from mutualis.privacy import catalogue
from mutualis.recipients import notices, requisitions
from mutualis.recipients.models import Notice, NoticeCause, NoticeChannel
from mutualis.recipients.tests.helpers import requisition_for
from mutualis.rights.export import build_access_export

pytestmark = pytest.mark.django_db
URL = "/espace/coordonnees/"
AUTHORITIES = "Autorités administratives ou judiciaires"


def _form(**changes) -> dict:
    return {
        "address_line1": "12 rue des Lilas",
        "address_line2": "",
        "postal_code": "75011",
        "city": "Paris",
        "email": "alice@example.org",
        "phone_landline": "",
        "phone_mobile": "06 12 34 56 78",
        **changes,
    }


def _contact_given_to(authority, person, *, secret=False):
    requisition = requisition_for(
        authority,
        [person],
        categories=[catalogue.IDENTITY, catalogue.CONTACT],
        secret=secret,
    )
    requisitions.decide(
        requisition=requisition, approve=True, reasons="Réquisition régulière.", actor=None
    )
    requisitions.export(requisition=requisition, read_copy=build_access_export, actor=None)


def _correct(client, member, **changes):
    client.force_login(member.account)
    response = client.post(URL, _form(**changes), follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_an_authority_that_received_the_contact_details_is_sent_a_notice(client, alice, authority):
    _contact_given_to(authority, alice.person)
    page = _correct(client, alice, phone_mobile="07 98 76 54 32")
    notice = Notice.objects.get()
    assert (notice.organisation, notice.cause, notice.channel) == (
        authority,
        NoticeCause.RECTIFICATION,
        NoticeChannel.LETTER,
    )
    assert notice.categories == ["contact"] and notice.references == ["PV 2026/123"]
    assert notice.source == SOURCE and notice.sent_at is None  # a letter, posted by staff
    assert "+33798765432" not in notice.letter and "07 98" not in notice.letter
    assert "que nous informons de la rectification (RGPD art. 19)" in page
    assert AUTHORITIES in page


def test_an_authority_of_a_secret_requisition_is_notified_but_never_named_to_the_member(
    client, alice, authority
):
    _contact_given_to(authority, alice.person, secret=True)
    page = _correct(client, alice, city="Lyon", postal_code="69002")
    assert Notice.objects.get().organisation == authority
    assert AUTHORITIES not in page and "RGPD art. 19" not in page
    assert "Vos coordonnées ont été mises à jour" in page


def test_data_no_organisation_received_give_no_notice(client, alice, pharmacy_key):
    check(client, pharmacy_key, body_for(alice.person))  # identity and contract only
    page = _correct(client, alice, phone_mobile="07 98 76 54 32")
    assert not Notice.objects.exists()
    assert "RGPD art. 19" not in page


def test_no_change_no_notice(client, alice, authority):
    _contact_given_to(authority, alice.person)
    page = _correct(client, alice)
    assert "Aucune modification" in page
    assert not Notice.objects.exists()


def test_the_correction_and_its_notices_commit_together(alice, authority, monkeypatch):
    _contact_given_to(authority, alice.person)

    def failing(**kwargs):
        raise RuntimeError("panne")

    monkeypatch.setattr(notices, "notify", failing)
    with pytest.raises(RuntimeError):
        notices.rectify_contact_details(
            person=alice.person,
            changes={"city": "Lyon", "postal_code": "69002"},
            actor=alice.account,
            source=SOURCE,
        )
    assert Person.objects.get(pk=alice.person_id).city == "Paris"
