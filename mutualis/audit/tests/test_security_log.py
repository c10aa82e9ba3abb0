import pytest
from django.test import RequestFactory

from mutualis.audit.security import (
    SecurityEvent,
    address_hash,
    record_security_event,
    truncated_network,
)
from mutualis.audit.services import PersonalDataInAuditEvent

pytestmark = pytest.mark.django_db


def test_an_ipv4_address_is_kept_as_its_slash_24_network():
    assert truncated_network("203.0.113.77") == "203.0.113.0/24"


def test_an_ipv6_address_is_kept_as_its_slash_48_network():
    assert truncated_network("2001:db8:1234:5678::1") == "2001:db8:1234::/48"


def test_what_is_not_an_address_is_not_kept():
    assert truncated_network("not-an-address") == ""


def test_a_refusal_is_logged_with_the_network_and_a_keyed_hash_never_the_address():
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.23")
    event = record_security_event("partners:api:refused", request=request, details={"why": "k"})
    stored = SecurityEvent.objects.get(pk=event.pk)
    assert stored.network == "198.51.100.0/24"
    assert stored.address_hash == address_hash("198.51.100.23")
    assert "198.51.100.23" not in str(SecurityEvent.objects.filter(pk=event.pk).values().get())


def test_two_addresses_of_one_network_have_different_hashes():
    assert address_hash("198.51.100.23") != address_hash("198.51.100.24")


def test_the_client_address_comes_from_the_proxy_hop_behind_the_reverse_proxy(settings):
    settings.MUTUALIS_BEHIND_PROXY = True
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.9"
    )
    event = record_security_event("members:login:refused", request=request)
    assert event.network == "192.0.2.0/24"


def test_a_nir_in_the_details_is_refused():
    with pytest.raises(PersonalDataInAuditEvent):
        record_security_event("members:login:refused", details={"q": "295109912611193"})
    assert not SecurityEvent.objects.exists()


def test_a_malformed_kind_is_refused():
    with pytest.raises(ValueError):
        record_security_event("not a tag")
