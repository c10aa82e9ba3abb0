"""Test helpers that need the rights app (above this one): an authority's export."""

from __future__ import annotations

import datetime

from django.utils import timezone

from mutualis.privacy import catalogue
from mutualis.recipients import requisitions
from mutualis.rights.export import build_access_export


def requisition_for(authority, people, *, categories=None, secret=False, reference="PV 2026/123"):
    today = timezone.localdate()
    return requisitions.register(
        organisation=authority,
        legal_basis="C. procédure pénale art. 60-1",
        reference=reference,
        received_on=today,
        deadline=today + datetime.timedelta(days=15),
        people=list(people),
        categories=categories or [catalogue.IDENTITY, catalogue.CONTRACT_DATA],
        forbids_notice=secret,
        secrecy_ground="C. procédure pénale art. 11 (secret de l'enquête)" if secret else "",
        actor=None,
    )


def disclose_to_authority(authority, person, *, reference="PV 2026/123", secret=False):
    """A requisition of ``person`` registered, approved and exported: (requisition, export)."""
    requisition = requisition_for(authority, [person], reference=reference, secret=secret)
    requisitions.decide(
        requisition=requisition,
        approve=True,
        reasons="Réquisition régulière et motivée.",
        actor=None,
    )
    sealed = requisitions.export(requisition=requisition, read_copy=build_access_export, actor=None)
    requisition.refresh_from_db()
    return requisition, sealed
