"""The security log: refused logins, refused API calls, lockouts, staff security actions.

Unlike the audit chain (who wrote what, kept as long as the records it proves), the security log
records attempts and refusals, usually outside any transaction of personal data, and is the one
place an IP address is kept. The address is never stored in clear: its network (IPv4 /24, IPv6
/48) and a keyed hash of the whole address, so repeated attempts from one client can be told
apart without the log becoming a list of who connected from where. Entries are kept six months
(declared in ``audit/privacy.py``), and carry no NIR or IBAN (checked like audit details).
Libraries that need an address of their own (django-axes) get a keyed pseudonym of it
(:func:`pseudonymous_address`), never the address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from mutualis.audit.tags import TAG_PATTERN, validate_tag

_ADDRESS_SALT = "mutualis.audit.security.address"


class SecurityEvent(models.Model):
    at = models.DateTimeField("date", default=timezone.now, db_index=True)
    kind = models.CharField(
        "nature",
        max_length=100,
        validators=[RegexValidator(TAG_PATTERN, "portée:ressource:action")],
    )
    actor = models.CharField("auteur", max_length=100, blank=True)
    network = models.CharField("réseau d'origine (adresse tronquée)", max_length=50, blank=True)
    address_hash = models.CharField("empreinte de l'adresse", max_length=64, blank=True)
    details = models.JSONField("détails", default=dict, blank=True)

    class Meta:
        verbose_name = "événement de sécurité"
        verbose_name_plural = "journal de sécurité"
        ordering = ["-at"]
        indexes = [models.Index(fields=["kind", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} ({self.at:%Y-%m-%d %H:%M})"


def truncated_network(address: str) -> str:
    """The address's network: IPv4 /24, IPv6 /48; empty for what is not an address."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    prefix = 24 if parsed.version == 4 else 48
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))


def address_hash(address: str) -> str:
    """Keyed hash of the whole address (secret key), to count attempts from one client."""
    if not address:
        return ""
    return salted_hmac(_ADDRESS_SALT, address.strip(), algorithm="sha256").hexdigest()


def pseudonymous_address(address: str) -> str:
    """A stand-in for ``address`` that is itself an address: an IPv6 unique-local address
    (``fd00::/8``) made of 120 bits of its keyed hash.

    For libraries that insist on an IP address and store it (django-axes counts failed logins
    per address): the same client always gets the same stand-in, so counting still works, yet
    the real address is never written, and the stand-in cannot be mistaken for a routable one.
    """
    digest = bytes.fromhex(address_hash(address) or address_hash("unknown"))
    return str(ipaddress.IPv6Address(b"\xfd" + digest[:15]))


def axes_client_address(request: HttpRequest) -> str:
    """``AXES_CLIENT_IP_CALLABLE``: what django-axes stores, logs and locks on."""
    return pseudonymous_address(request_address(request))


def request_address(request: HttpRequest) -> str:
    """The client address of ``request``, behind the reverse proxy when configured."""
    from django.conf import settings

    raw = request.META.get("REMOTE_ADDR", "")
    if getattr(settings, "MUTUALIS_BEHIND_PROXY", False):
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if hops:
            raw = hops[-1]
    return raw


def record_security_event(
    kind: str,
    *,
    request: HttpRequest | None = None,
    address: str = "",
    actor: Any = None,
    details: Mapping[str, Any] | None = None,
) -> SecurityEvent:
    """Write one entry to the security log.

    Called outside a transaction (a refused login, a refused API call), the entry commits at
    once; inside one, it commits or rolls back with it. ``actor`` is an identifier as for the
    audit log (``"partner:12"``, a user); ``details`` a JSON object without NIR or IBAN.
    """
    from mutualis.audit.services import _actor_id, _clean_details, refuse_personal_data

    if request is not None and not address:
        address = request_address(request)
    cleaned = _clean_details(details)
    actor_id = "" if actor is None else _actor_id(actor)
    refuse_personal_data({"actor": actor_id, "details": cleaned})
    return SecurityEvent.objects.create(
        kind=validate_tag(str(kind)),
        actor=actor_id,
        network=truncated_network(address),
        address_hash=address_hash(address),
        details=cleaned,
    )
