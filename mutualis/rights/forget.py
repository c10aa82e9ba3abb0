"""A restore brings back people erased since its backup: remove them again (architecture.md §5).

The product destroys a person's data key only as it deletes the person — an erasure with nothing
left to keep, or the retention sweep of people no record refers to any more. A destroyed key
therefore means that the person and every record leading to them were gone. A backup taken
before holds them all: once the restore has replayed the erasure journal their ciphertexts are
unreadable, but their clear fields (name, address, e-mail, correspondence) would be back.

:func:`forget_replayed`, connected to :data:`mutualis.vault.signals.erasure_replayed`, deletes
them again inside the restore's transaction: every record the erasure plan walks for the person,
then their beneficiary links, member record, person row and destroyed key. Their rights
requests stay, detached, as the erasure kept them (proof, GDPR art. 5(2)); children attached to
their NIR stay, detached. Should a record the plan does not know protect the person, the person
row stays with every declared clear field blanked instead. One audit event per person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from uuid import UUID

from django.db import transaction
from django.db.models.deletion import ProtectedError

from mutualis import audit
from mutualis.members.models import Beneficiary, Member, Person
from mutualis.privacy import registry
from mutualis.rights import erasure
from mutualis.rights.models import RightsRequest
from mutualis.rights.tags import RightsTag
from mutualis.vault.models import DataKey

KEYS_PER_QUERY = 500
# The person's structure goes last, once nothing protects it any more.
_STRUCTURE_ORDER = {Beneficiary: 1, Member: 2}


def forget(person: Person) -> dict[str, int]:
    """Delete ``person`` and every record of theirs the erasure plan walks; return the counts
    of rows deleted per model (cascades included)."""
    deleted: Counter[str] = Counter()
    fates = erasure.plan(person).fates
    for fate in sorted(fates, key=lambda f: _STRUCTURE_ORDER.get(type(f.obj), 0)):
        obj = fate.obj
        if isinstance(obj, Person | RightsRequest):
            continue
        deleted.update(type(obj)._base_manager.filter(pk=obj.pk).delete()[1])
    RightsRequest._base_manager.filter(person=person).update(person=None)
    Person._base_manager.filter(nir_holder=person).update(nir_holder=None)
    deleted.update(Person._base_manager.filter(pk=person.pk).delete()[1])
    DataKey.objects.filter(pk=person.data_key_id).delete()
    return {model: count for model, count in sorted(deleted.items()) if count}


def _blank(person: Person) -> list[str]:
    """Fallback: clear every declared clear field of the person row that has to stay."""
    declaration = registry.get(Person._meta.label)
    return erasure.clear_fields(person, list(declaration.fields))


def forget_replayed(sender, *, data_key_ids: Iterable[UUID], **kwargs) -> int:
    """Receiver of ``erasure_replayed``: forget every person sealed with one of the keys."""
    keys = list(data_key_ids)
    forgotten = 0
    for start in range(0, len(keys), KEYS_PER_QUERY):
        people = Person._base_manager.filter(data_key_id__in=keys[start : start + KEYS_PER_QUERY])
        for person in people.order_by("pk"):
            try:
                with transaction.atomic():
                    details = {"deleted": forget(person)}
            except ProtectedError:
                details = {"blanked": _blank(person)}
            audit.record(RightsTag.ERASURE_REPLAY, subject=person, details=details)
            forgotten += 1
    return forgotten
