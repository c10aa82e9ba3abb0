"""Which threads and complaints a staff member may open, and what of them they may see.

``Inquiry.objects.visible_to`` lets every staff account through ("roles decide in views"); the
back office narrows it here, in one place, so every page and download applies the same rule:

- a service works on the threads assigned to it (the policy's "services internes, chacun pour
  les seules catégories nécessaires à sa mission"): being assigned a thread is the need to read
  its correspondence;
- the réclamations service also sees every thread qualified as a complaint, wherever assigned;
- the DPO sees everything;
- a complaint in intermediate archive (``archived_at`` set by the retention engine) is
  restricted: the DPO alone sees it and its thread (architecture.md §6).

Complaint details (reason, outcome, root cause) belong to the category ``complaint``: a service
without it (e.g. gestion, asked for an opinion on a complaint thread) sees the correspondence
but not the register's fields.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from mutualis.contact.models import Complaint, Inquiry, Status
from mutualis.members.models import User
from mutualis.members.roles import Permission, visible_categories
from mutualis.privacy import catalogue


def is_dpo(user: User) -> bool:
    return user.role == catalogue.SERVICE_DPO.code


def inquiries_for(user: User) -> QuerySet[Inquiry]:
    """The threads ``user`` may open (see the module docstring for the rule)."""
    threads = Inquiry.objects.visible_to(user)
    if is_dpo(user):
        return threads
    scope = Q(service=user.role)
    if user.has_perm(Permission.COMPLAINT_MANAGE):
        scope |= Q(complaint__isnull=False)
    return threads.filter(scope).exclude(complaint__archived_at__isnull=False)


def complaints_for(user: User) -> QuerySet[Complaint]:
    """Complaints ``user`` may handle: not archived ones, unless ``user`` is the DPO."""
    complaints = Complaint.objects.select_related("inquiry", "inquiry__person")
    return complaints if is_dpo(user) else complaints.filter(archived_at__isnull=True)


def sees_complaint_details(user: User) -> bool:
    return catalogue.COMPLAINT in visible_categories(user.role)


def category_codes(user: User) -> set[str]:
    return {category.code for category in visible_categories(user.role)}


def is_late(inquiry: Inquiry) -> bool:
    """Past its answer date while the mutuelle owes the answer (not when waiting for the person
    or once answered)."""
    return inquiry.status == Status.OPEN and inquiry.is_overdue
