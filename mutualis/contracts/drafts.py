"""Drafts of online subscriptions (adhésion en ligne), kept server-side between the form's steps.

Rules:

- Nothing reaches the member tables (person, member, contract, mandate…) before the final
  confirmation, which calls :func:`mutualis.contracts.services.subscribe`.
- A draft holds what the visitor typed (NIR and IBAN included) as JSON in one field encrypted under
  a data key of its own, created with the draft. The browser's session holds only the draft's id.
- A draft lives :data:`DRAFT_LIFETIME` from its creation. Confirming, abandoning or letting it
  expire deletes it and shreds its key (crypto-shredding), so no copy of the payload, a backup
  included, can be read again. ``manage.py purge_subscription_drafts`` removes the drafts nobody
  came back to.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from mutualis import audit
from mutualis.contracts import services
from mutualis.contracts.models import DRAFT_LIFETIME, SubscriptionDraft
from mutualis.contracts.tags import ContractsTag
from mutualis.vault import services as vault
from mutualis.vault.models import DataKey


def start_draft(*, data: dict[str, Any] | None = None, current_step: str = "") -> SubscriptionDraft:
    """A new draft with its own data key, expiring after :data:`DRAFT_LIFETIME`."""
    now = timezone.now()
    with transaction.atomic():
        draft = SubscriptionDraft(
            data_key=vault.create_data_key(),
            payload=json.dumps(data or {}),
            current_step=current_step,
            created_at=now,
            expires_at=now + DRAFT_LIFETIME,
        )
        draft.save(force_insert=True)
    return draft


def discard(draft: SubscriptionDraft) -> None:
    """Delete the draft and shred its data key (confirmation, abandon or expiry).

    The shredding is journaled (a restored backup is shredded again); the emptied key row is
    then deleted, as the retention engine does for people.
    """
    with transaction.atomic():
        SubscriptionDraft.objects.filter(pk=draft.pk).delete()
        vault.shred(draft)
        DataKey.objects.filter(pk=draft.data_key_id, wrapped_key__isnull=True).delete()


def purge_expired(*, now: datetime.datetime | None = None, batch_size: int = 500) -> int:
    """Discard every expired draft, in batches; safe to rerun and to run on several hosts."""
    rows, _batches = _discard_all(SubscriptionDraft.objects.expired(now), batch_size=batch_size)
    return rows


def purge_for_retention(
    *, before: datetime.datetime, batch_size: int = 500, dry_run: bool = False
) -> tuple[int, int]:
    """The retention handler of the declaration (``manage.py enforce_retention``).

    Discards the drafts collected before ``before`` (their key shredded, which a plain delete
    would not do). Returns ``(rows, batches)``.
    """
    qs = SubscriptionDraft.objects.filter(created_at__lt=before)
    if dry_run:
        return qs.count(), 0
    return _discard_all(qs, batch_size=batch_size)


def _discard_all(qs: models.QuerySet, *, batch_size: int) -> tuple[int, int]:
    rows = batches = 0
    batch_size = max(1, batch_size)
    while True:
        with transaction.atomic():
            batch = list(
                qs.select_for_update(skip_locked=True).only("id", "data_key_id")[:batch_size]
            )
            for draft in batch:
                discard(draft)
        if not batch:
            return rows, batches
        rows += len(batch)
        batches += 1
        if len(batch) < batch_size:
            return rows, batches


def confirm(*, draft: SubscriptionDraft, application, actor=None, activation_link=None):
    """Create the subscription from a draft and destroy the draft, in one transaction.

    ``application`` is the :class:`~mutualis.contracts.application.Application` built from the
    draft; :func:`~mutualis.contracts.services.subscribe` checks it again in full and raises
    :class:`~mutualis.contracts.application.ApplicationInvalid` (nothing is written then). The
    activation e-mail leaves once the transaction has committed.
    """
    with transaction.atomic():
        locked = SubscriptionDraft.objects.select_for_update().get(pk=draft.pk)
        contract = services.subscribe(
            application=application, actor=actor, activation_link=activation_link
        )
        discard(locked)
        audit.record(
            ContractsTag.SUBSCRIPTION_CONFIRM,
            actor=actor,
            subject=contract.member.person_id,
            target=contract,
            details={"channel": "web", "draft": str(locked.pk)},
        )
    return contract
