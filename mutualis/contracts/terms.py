"""Terms of use (CGU) as dated versions, their acceptance, and the notices of a new policy.

Rules (architecture.md §13):

- The terms are published as dated versions (:func:`publish_cgu`), rendered once from
  ``contracts/cgu_body.html`` and kept as published; publishing unchanged text creates nothing.
- A member accepts a version at subscription, or in the member space; the acceptance keeps the
  version, the time and the channel. A member whose latest acceptance is not of the version in
  force is asked to accept it before using the member space (:func:`needs_acceptance`).
- When a new version of the privacy policy is published, each member is told: a banner until they
  have read it (:func:`pending_policy_notice`, :func:`mark_policy_seen`) and an e-mail with what
  changed (:func:`send_policy_notices`, periodic, batch-wise, idempotent).
- The member space asks both at every page, with one query (:func:`pending_of`); one more only
  when something is pending, to read the version.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from mutualis import audit
from mutualis.contracts.models import (
    AcceptanceChannel,
    CguVersion,
    Contract,
    PolicyNotice,
    TermsAcceptance,
)
from mutualis.contracts.tags import ContractsTag
from mutualis.lib import links, textdiff
from mutualis.members.models import Member
from mutualis.privacy.models import PolicyVersion


class TermsError(ValueError):
    """A step on the terms the rules refuse (French message)."""


# --- Terms of use --------------------------------------------------------------------------------
def render_cgu_body() -> str:
    """The terms as they read today. They link the policy and the cookies page, whose paths
    the public site's face declares (``lib/links.py``): a domain module never names a face."""
    context = {
        "organisation": settings.MUTUALIS_ORGANISATION,
        "links": {"policy": links.path(links.POLICY), "cookies": links.path(links.COOKIES)},
    }
    return render_to_string("contracts/cgu_body.html", context)


def current_cgu() -> CguVersion | None:
    return CguVersion.objects.published().first()


def publish_cgu(effective_date: datetime.date | None = None) -> tuple[CguVersion, bool]:
    """Publish the terms as they read today; ``(version, created)``. Unchanged text publishes
    nothing; an earlier version is never modified."""
    effective_date = effective_date or timezone.localdate()
    body = render_cgu_body()
    digest = hashlib.sha256(body.encode()).hexdigest()
    latest = current_cgu()
    if latest is not None and latest.content_hash == digest:
        return latest, False
    if latest is not None and effective_date <= latest.effective_date:
        raise TermsError(
            "La date d'effet doit suivre celle de la version en vigueur "
            f"({latest.effective_date:%d/%m/%Y})."
        )
    try:
        with transaction.atomic():
            version = CguVersion.objects.create(
                effective_date=effective_date, content_hash=digest, body_html=body
            )
            audit.record(
                ContractsTag.CGU_PUBLISH,
                target=version,
                details={"effective_date": effective_date.isoformat(), "content_hash": digest},
            )
    except IntegrityError:
        raise TermsError(f"Une version datée du {effective_date:%d/%m/%Y} existe déjà.") from None
    return version, True


def accept_cgu(
    *, member: Member, channel: str, version: CguVersion | None = None, actor=None
) -> TermsAcceptance:
    """Record that ``member`` accepts ``version`` (the one in force by default). Accepting the
    same version twice keeps the first acceptance."""
    if channel not in AcceptanceChannel.values:
        raise TermsError(f"Canal inconnu : {channel}.")
    version = version or current_cgu()
    if version is None:
        raise TermsError("Aucune version des conditions générales n'est publiée.")
    with transaction.atomic():
        acceptance, created = TermsAcceptance.objects.get_or_create(
            member=member, version=version, defaults={"channel": channel}
        )
        if created:
            audit.record(
                ContractsTag.CGU_ACCEPT,
                actor=actor,
                subject=member.person_id,
                target=acceptance,
                details={"version": version.slug, "channel": channel},
            )
    return acceptance


def needs_acceptance(member: Member) -> CguVersion | None:
    """The version in force when ``member`` has not accepted it yet, else ``None`` (one query)."""
    accepted = TermsAcceptance.objects.filter(member=member, version=OuterRef("pk"))
    version = CguVersion.objects.published().annotate(accepted=Exists(accepted)).first()
    if version is None or version.accepted:
        return None
    return version


def latest_acceptance(member: Member) -> TermsAcceptance | None:
    return member.terms_acceptances.select_related("version").order_by("-accepted_at").first()


# --- Notices of a new policy version -------------------------------------------------------------
def previous_policy(version: PolicyVersion) -> PolicyVersion | None:
    return (
        PolicyVersion.objects.filter(effective_date__lt=version.effective_date)
        .order_by("-effective_date")
        .first()
    )


def pending_policy_notice(member: Member) -> PolicyVersion | None:
    """The policy version in force when the member has not read it since it was published."""
    return pending_from(pending_query(member.pk).get(), with_terms=False).policy


# --- Both questions at once, for every page of the member space ---------------------------------
@dataclass(frozen=True)
class Pending:
    """What the member space must ask or tell a member before anything else."""

    terms: CguVersion | None  # the terms in force, not accepted yet: asked before any page
    policy: PolicyVersion | None  # the policy in force, not read since published: a banner


# The values :func:`pending_query` reads and :func:`pending_from` judges, in this order.
PENDING_COLUMNS = (
    "pending_terms_in_force",
    "pending_terms_accepted",
    "pending_policy_in_force",
    "pending_policy_date",
    "pending_policy_before",
    "pending_policy_accepted",
    "pending_policy_seen",
)


def pending_query(member_id) -> QuerySet:
    """One row of :data:`PENDING_COLUMNS` for the member ``member_id``, one query: the terms in
    force and whether the member accepted them, the policy in force, whether an earlier one
    exists, and the latest policy the member accepted at subscription or read since."""
    terms_in_force = CguVersion.objects.published().values("pk")[:1]
    policy_in_force = PolicyVersion.objects.published()
    policy_date = policy_in_force.values("effective_date")[:1]
    return (
        Member.objects.filter(pk=member_id)
        .annotate(
            pending_terms_in_force=Subquery(terms_in_force),
            pending_terms_accepted=Exists(
                TermsAcceptance.objects.filter(
                    member=OuterRef("pk"), version=Subquery(terms_in_force)
                )
            ),
            pending_policy_in_force=Subquery(policy_in_force.values("pk")[:1]),
            pending_policy_date=Subquery(policy_date),
            pending_policy_before=Exists(
                PolicyVersion.objects.filter(effective_date__lt=Subquery(policy_date))
            ),
            pending_policy_accepted=Subquery(
                Contract.objects.filter(member=OuterRef("pk"))
                .order_by("-policy_version__effective_date")
                .values("policy_version__effective_date")[:1]
            ),
            pending_policy_seen=Subquery(
                PolicyNotice.objects.filter(member=OuterRef("pk"), seen_at__isnull=False)
                .order_by("-version__effective_date")
                .values("version__effective_date")[:1]
            ),
        )
        .values(*PENDING_COLUMNS)
    )


def pending_of(member: Member) -> Pending:
    """The terms ``member`` must accept and the policy notice to show them, read now: one query
    (:func:`pending_query`), and one more to read a version that is pending."""
    return pending_from(pending_query(member.pk).get())


def pending_from(values: dict, *, with_terms: bool = True) -> Pending:
    """What is pending, from a row of :func:`pending_query` (a query to read a pending version;
    none for the terms without ``with_terms``)."""
    cgu = None
    in_force = values["pending_terms_in_force"]
    if with_terms and in_force is not None and not values["pending_terms_accepted"]:
        cgu = CguVersion.objects.get(pk=in_force)
    policy = None
    current = values["pending_policy_date"]
    if current is not None:
        dates = [values["pending_policy_accepted"], values["pending_policy_seen"]]
        known = max((d for d in dates if d is not None), default=None)
        if known is not None and known >= current:
            pass  # read, or accepted at subscription
        elif known is None and not values["pending_policy_before"]:
            pass  # the first policy ever: nothing changed for anyone
        else:
            policy = PolicyVersion.objects.get(pk=values["pending_policy_in_force"])
    return Pending(terms=cgu, policy=policy)


def mark_policy_seen(*, member: Member, version: PolicyVersion, actor=None) -> PolicyNotice:
    """The member has read what changed: the banner goes."""
    with transaction.atomic():
        notice, _ = PolicyNotice.objects.get_or_create(member=member, version=version)
        if notice.seen_at is None:
            notice.seen_at = timezone.now()
            notice.save(update_fields=["seen_at"])
            audit.record(
                ContractsTag.POLICY_SEEN,
                actor=actor,
                subject=member.person_id,
                target=notice,
                details={"version": version.slug},
            )
    return notice


def policy_changes(version: PolicyVersion) -> textdiff.Diff:
    """What changed from the version before (a readable diff of the two texts)."""
    before = previous_policy(version)
    return textdiff.compare(before.body_html if before else "", version.body_html)


def send_policy_notices(
    *, link: Callable[[PolicyVersion], str], batch_size: int = 500
) -> tuple[PolicyVersion | None, int]:
    """E-mail every member with an account about the policy version in force, once each, with
    what changed; ``link`` is the face's page of the changes. Returns ``(version, e-mails)``.

    Batch-wise and idempotent: a member already told (or who read it) is skipped, a rerun after an
    interruption goes on where it stopped; rows are locked with ``skip_locked`` so several hosts
    can run it at once.
    """
    current = PolicyVersion.objects.published().first()
    if current is None or previous_policy(current) is None:
        return current, 0
    changes = policy_changes(current)
    text = changes.as_text()
    sent = 0
    while True:
        with transaction.atomic():
            told = PolicyNotice.objects.filter(version=current).values("member_id")
            batch = list(
                Member.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(account__is_active=True)
                .exclude(pk__in=told)
                .exclude(contracts__policy_version__effective_date__gte=current.effective_date)
                .select_related("person", "account")
                .order_by("pk")[:batch_size]
            )
            for member in batch:
                PolicyNotice.objects.create(
                    member=member, version=current, emailed_at=timezone.now()
                )
                body = render_to_string(
                    "contracts/email/policy_notice.txt",
                    {
                        "version": current,
                        "changes": text,
                        "link": link(current),
                        "organisation": settings.MUTUALIS_ORGANISATION,
                    },
                )
                address = member.account.email
                transaction.on_commit(
                    lambda address=address, body=body: send_mail(
                        subject="Notre politique de confidentialité évolue",
                        message=body,
                        from_email=None,
                        recipient_list=[address],
                    )
                )
            if batch:
                audit.record(
                    ContractsTag.POLICY_NOTICE,
                    details={"version": current.slug, "members": len(batch)},
                )
        if not batch:
            return current, sent
        sent += len(batch)
