"""Back-office pages of the outside recipients: organisations and keys, scheme exchanges, the
disclosure register (filters, CSV), the requisitions. One permission test per view."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from mutualis.audit.models import Disclosure
from mutualis.backoffice.testing import page_text
from mutualis.backoffice.tests.helpers import assert_no_full_nir_or_iban
from mutualis.partners.tests.helpers import body_for, check
from mutualis.recipients.exchange import acknowledgement, inbound, outbound
from mutualis.recipients.models import Credential, Organisation
from mutualis.recipients.models_requisitions import Requisition, RequisitionStatus
from mutualis.recipients.services import authenticate
from mutualis.recipients.testing import key_for, make_authority, make_pharmacy, make_scheme

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(alice, client, tmp_path):
    """A pharmacy that checked alice, a scheme that rejected a line, an authority."""
    pharmacy = make_pharmacy()
    check(client, key_for(pharmacy), body_for(alice.person))
    scheme = make_scheme()
    sent = outbound.run(scheme, as_of=timezone.localdate(), directory=tmp_path)
    ack = acknowledgement.acknowledge(sent.path, tmp_path / "ack.txt", rejected={1: "001"})
    inbound.import_acknowledgement(ack)
    authority = make_authority()
    requisition = Requisition.objects.create(
        organisation=authority,
        legal_basis="C. procédure pénale art. 60-1",
        reference="PV 1",
        received_on=timezone.localdate(),
        deadline=timezone.localdate() + datetime.timedelta(days=10),
        categories=["identity"],
        registered_by="system",
    )
    return {"pharmacy": pharmacy, "scheme": scheme, "authority": authority, "req": requisition}


def _pages(world):
    pharmacy, req = world["pharmacy"], world["req"]
    return {
        "organisation_list": reverse("backoffice:organisation_list"),
        "organisation_create": reverse("backoffice:organisation_create"),
        "organisation_detail": reverse("backoffice:organisation_detail", args=[pharmacy.pk]),
        "organisation_edit": reverse("backoffice:organisation_edit", args=[pharmacy.pk]),
        "exchange_list": reverse("backoffice:exchange_list"),
        "disclosure_register": reverse("backoffice:disclosure_register"),
        "requisition_list": reverse("backoffice:requisition_list"),
        "requisition_create": reverse("backoffice:requisition_create"),
        "requisition_detail": reverse("backoffice:requisition_detail", args=[req.pk]),
    }


# (page, a role allowed, a role refused)
ACCESS = [
    ("organisation_list", "gestion", "cotisations"),
    ("organisation_create", "admin", "dpo"),
    ("organisation_detail", "dpo", "relation_adherent"),
    ("organisation_edit", "gestion", "dpo"),
    ("exchange_list", "gestion", "cotisations"),
    ("disclosure_register", "dpo", "gestion"),
    ("requisition_list", "gestion", "reclamations"),
    ("requisition_create", "dpo", "cotisations"),
    ("requisition_detail", "dpo", "admin"),
]


@pytest.mark.parametrize(("name", "allowed", "refused"), ACCESS, ids=[a[0] for a in ACCESS])
def test_each_page_is_served_to_its_roles_only(world, as_staff, staff, name, allowed, refused):
    url = _pages(world)[name]
    served = as_staff(staff(allowed)).get(url)
    assert served.status_code == 200 and "no-store" in served["Cache-Control"]
    assert as_staff(staff(refused)).get(url).status_code == 403


def test_pages_are_french_accessible_and_hold_no_nir(world, as_staff, bob, alice, staff):
    dpo, admin = as_staff(bob), as_staff(staff("admin"))
    for name, url in _pages(world).items():
        client = admin if name in {"organisation_create", "organisation_edit"} else dpo
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == 200, name
        assert body.count("<h1") == 1, name
        for field_id in re.findall(r'<input[^>]*\bid="([^"]+)"', body):
            assert f'for="{field_id}"' in body, (name, field_id)
        assert " style=" not in body and "<style" not in body, name
        assert_no_full_nir_or_iban(response, alice)


def test_a_new_key_is_shown_once_and_works(world, as_staff, staff):
    client = as_staff(staff("gestion"))
    pharmacy = world["pharmacy"]
    response = client.post(
        reverse("backoffice:key_create", args=[pharmacy.pk]),
        {"label": "Logiciel officine", "scopes": ["rights:check"]},
    )
    key = re.search(r"mtl_[a-z0-9]{10}_[A-Za-z0-9_-]{43}", page_text(response)).group()
    assert authenticate(key).credential.label == "Logiciel officine"
    again = client.get(reverse("backoffice:organisation_detail", args=[pharmacy.pk]))
    assert key not in page_text(again)
    credential = Credential.objects.get(label="Logiciel officine")
    rotated = client.post(
        reverse("backoffice:key_rotate", args=[pharmacy.pk, credential.pk]), {"overlap_days": "3"}
    )
    new_key = re.search(r"mtl_[a-z0-9]{10}_[A-Za-z0-9_-]{43}", page_text(rotated)).group()
    assert new_key != key and authenticate(key).credential is not None
    client.post(reverse("backoffice:key_revoke", args=[pharmacy.pk, credential.pk]))
    assert authenticate(key).refusal == "revoked"


def test_an_organisation_with_a_wrong_finess_is_refused_in_french(as_staff, staff):
    response = as_staff(staff("gestion")).post(
        reverse("backoffice:organisation_create"),
        {
            "kind": "pharmacy",
            "name": "Pharmacie",
            "identifier_type": "finess",
            "identifier": "750000011",
        },
    )
    assert response.status_code == 200
    assert "La clé du numéro FINESS ne correspond pas" in page_text(response)
    assert not Organisation.objects.filter(name="Pharmacie").exists()


def test_the_register_filters_and_exports_csv(world, as_staff, bob, alice):
    client = as_staff(bob)
    url = reverse("backoffice:disclosure_register")
    everything = page_text(client.get(url))
    api, exchange = "Vérification des droits au tiers payant", "Échange d'affiliation"
    assert api in everything and exchange in everything
    pharmacy_only = page_text(client.get(url, {"organisme": world["pharmacy"].pk}))
    assert api in pharmacy_only and exchange not in pharmacy_only
    by_member = page_text(client.get(url, {"personne": alice.number}))
    assert "2 communications" in by_member  # the pharmacy's check, the scheme's file
    refused = client.get(url, {"personne": alice.person.nir})
    assert alice.person.nir not in page_text(refused)
    csv = client.get(
        reverse("backoffice:disclosure_register_csv"), {"destinataire": "health_professionals"}
    )
    lines = csv.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("n°;date;destinataire") and len(lines) == 2
    assert "Pharmacie du Centre" in lines[1] and alice.person.nir not in csv.content.decode()
    assert Disclosure.objects.count() == 1 + world["scheme"].exchanges.get().affiliations


def test_gestion_resolves_a_rejection(world, as_staff, staff):
    client = as_staff(staff("gestion"))
    page = page_text(client.get(reverse("backoffice:exchange_list")))
    assert "NIR inconnu du regime" in page
    line = world["scheme"].exchanges.get().lines.get(number=1)
    client.post(
        reverse("backoffice:rejection_resolve", args=[line.pk]), {"resolution": "NIR corrigé"}
    )
    line.refresh_from_db()
    assert line.resolved_at is not None
    assert "Aucun rejet à traiter" in page_text(client.get(reverse("backoffice:exchange_list")))


def test_the_dpo_registers_decides_and_exports_a_requisition(world, as_staff, bob, alice, staff):
    gestion = as_staff(staff("gestion"))
    register = gestion.post(
        reverse("backoffice:requisition_create"),
        {
            "organisation": world["authority"].pk,
            "legal_basis": "C. procédure pénale art. 77-1-1",
            "reference": "PV 2026/77",
            "received_on": timezone.localdate().isoformat(),
            "deadline": (timezone.localdate() + datetime.timedelta(days=8)).isoformat(),
            "members": alice.number,
            "categories": ["identity", "contract"],
        },
    )
    requisition = Requisition.objects.get(reference="PV 2026/77")
    assert register.status_code == 302
    client = as_staff(bob)
    client.post(
        reverse("backoffice:requisition_decide", args=[requisition.pk]),
        {"decision": "approve", "reasons": "Réquisition régulière, périmètre limité."},
    )
    exported = client.post(reverse("backoffice:requisition_export", args=[requisition.pk]))
    assert "Clé de l'archive" in page_text(exported)
    requisition.refresh_from_db()
    assert requisition.status == RequisitionStatus.EXPORTED
    archive = client.get(reverse("backoffice:requisition_download", args=[requisition.pk]))
    assert archive.content == bytes(requisition.archive) and archive.content.startswith(b"MTLSBAK1")
    refused = gestion.post(reverse("backoffice:requisition_export", args=[requisition.pk]))
    assert refused.status_code == 403
