"""GDPR art. 19: rectification and erasure are notified to every organisation that received the
data — through the API for health professionals, the next exchange file for schemes, a letter
for authorities — and each notice is recorded."""

from __future__ import annotations

import pytest
from django.utils import timezone

from mutualis.audit.models import Event
from mutualis.partners.tests.helpers import NOTICES, auth, body_for, check
from mutualis.recipients import notices
from mutualis.recipients.exchange import outbound
from mutualis.recipients.models import Notice, NoticeCause, NoticeChannel
from mutualis.recipients.testing import key_for, make_pharmacy
from mutualis.rights import handlers, processing
from mutualis.rights.models import Kind

pytestmark = pytest.mark.django_db


def _rectify(member, changes, staff):
    request = processing.request_from_member_space(
        member=member, kind=Kind.RECTIFICATION, details={"changes": changes}
    )
    if request.answered_at is not None:  # contact details are corrected at once
        return request
    return handlers.apply_rectification(request=request, changes=changes, actor=staff)


def test_a_rectified_name_is_notified_to_the_pharmacy_that_checked_and_fetched_by_it(
    client, alice, bob, pharmacy, pharmacy_key
):
    reference = check(client, pharmacy_key, body_for(alice.person)).json()["reference"]
    request = _rectify(alice, {"last_name": "Martin-Durand"}, bob)
    notice = Notice.objects.get()
    assert (notice.organisation, notice.cause, notice.channel) == (
        pharmacy,
        NoticeCause.RECTIFICATION,
        NoticeChannel.API,
    )
    assert notice.references == [reference] and notice.categories == ["identity"]
    assert notice.sent_at is not None and notice.delivered_at is None
    assert notice.source == f"rights.rightsrequest:{request.pk}"
    assert "Professionnels de santé" in request.answer_text
    listed = client.get(NOTICES, **auth(pharmacy_key)).json()["avis"]
    assert [(n["nature"], n["references"]) for n in listed] == [("rectification", [reference])]
    notice.refresh_from_db()
    assert notice.delivered_at is not None
    assert Event.objects.filter(tag="recipients:notice:deliver").count() == 1


def test_data_a_recipient_never_received_gives_it_no_notice(client, alice, bob, pharmacy_key):
    check(client, pharmacy_key, body_for(alice.person))
    _rectify(alice, {"city": "Lyon", "postal_code": "69001"}, bob)  # contact data: not disclosed
    assert not Notice.objects.exists()


def test_one_pharmacy_never_reads_another_pharmacys_notices(client, alice, bob, pharmacy_key):
    other_key = key_for(make_pharmacy(name="Pharmacie de la Gare", first_eight="69000002"))
    check(client, pharmacy_key, body_for(alice.person))
    _rectify(alice, {"last_name": "Martin-Durand"}, bob)
    assert client.get(NOTICES, **auth(other_key)).json() == {"avis": []}
    assert Notice.objects.get().delivered_at is None


def test_an_erasure_is_notified_to_those_that_received_what_is_erased(
    client, alice, pharmacy, pharmacy_key, scheme, tmp_path
):
    """The contract ended: the NIR and scheme are erased (the scheme received them: a notice in
    its next file), and data of the categories the pharmacy received (its member-space link, a
    contract datum) too: a notice it reads through the API. Notices go by category."""
    import datetime

    from mutualis.contracts.models import Contract

    check(client, pharmacy_key, body_for(alice.person))
    exchange = outbound.run(scheme, as_of=timezone.localdate(), directory=tmp_path).exchange
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Contract.objects.filter(member=alice).update(end_date=yesterday)
    request = processing.request_from_member_space(member=alice, kind=Kind.ERASURE)
    sent = {n.organisation: n for n in Notice.objects.filter(cause=NoticeCause.ERASURE)}
    assert set(sent) == {scheme, pharmacy}
    assert sent[pharmacy].channel == NoticeChannel.API and sent[pharmacy].sent_at is not None
    notice = sent[scheme]
    assert notice.channel == NoticeChannel.EXCHANGE and notice.sent_at is None
    assert "administrative" in notice.categories
    line = exchange.lines.get(subject_id=str(alice.person_id))
    assert line.reference in notice.references
    assert "informons de leur effacement" in request.answer_text
    assert "Régimes obligatoires" in request.answer_text


def test_a_full_erasure_is_notified_to_the_pharmacy_through_the_api(
    client, dave, pharmacy, pharmacy_key
):
    """Nothing is kept (a member without contracts): every category goes, the pharmacy's too."""
    from mutualis.contracts.models import Contract

    reference = check(client, pharmacy_key, body_for(dave.person)).json()["reference"]
    dave.beneficiaries.all().delete()
    Contract.objects.filter(member=dave).delete()
    processing.request_from_member_space(member=dave, kind=Kind.ERASURE)
    notice = Notice.objects.get(cause=NoticeCause.ERASURE)
    assert notice.organisation == pharmacy and notice.channel == NoticeChannel.API
    assert notice.references == [reference]
    listed = client.get(NOTICES, **auth(pharmacy_key)).json()["avis"]
    assert listed[0]["nature"] == "effacement"


def test_an_authority_gets_a_letter_recorded_when_posted(alice, authority, bob):
    from mutualis.recipients.tests.helpers import disclose_to_authority

    disclose_to_authority(authority, alice.person, reference="PV 2026/123")
    created = notices.notify(
        subject_id=str(alice.person_id),
        categories=["identity"],
        cause=NoticeCause.ERASURE,
        source="rights.rightsrequest:9",
    )
    letter = created[0]
    assert letter.channel == NoticeChannel.LETTER and letter.sent_at is None
    assert "PV 2026/123" in letter.letter and alice.person.last_name not in letter.letter
    notices.record_letter_sent(notice=letter, actor=bob)
    letter.refresh_from_db()
    assert letter.sent_at is not None
