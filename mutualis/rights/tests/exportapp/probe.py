"""A model declared after the export was written, for the "new field, no code change" test.

It is unregistered from the app registry as soon as it is defined, so ``makemigrations`` and the
privacy check never see it; :func:`installed` registers it, declares it and creates its table for
the duration of a test module only (the pattern of ``mutualis/vault/tests/models_for_tests.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps
from django.db import connection, models

from mutualis.privacy import catalogue, registry
from mutualis.privacy.declaration import personal

LABEL = "rights.ThirdPartyCard"


class ThirdPartyCard(models.Model):
    """A third-party payment card (carte de tiers payant), as a later version might hold."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("members.Person", on_delete=models.CASCADE, related_name="+")
    card_number = models.CharField("numéro de carte de tiers payant", max_length=20)
    pharmacy = models.CharField("pharmacie habituelle", max_length=100, blank=True)
    filename = models.CharField("nom du justificatif", max_length=100, blank=True)
    proof = models.BinaryField("justificatif", null=True)

    class Meta:
        app_label = "rights"
        db_table = "rights_test_third_party_card"
        verbose_name = "carte de tiers payant"


def _unregister() -> None:
    apps.all_models["rights"].pop(ThirdPartyCard._meta.model_name, None)
    apps.clear_cache()


_unregister()


def _declare() -> None:
    contract = [catalogue.CONTRACT]
    registry.declare(
        LABEL,
        fields={
            "card_number": personal(catalogue.CONTRACT_DATA, contract, provided=False),
            "pharmacy": personal(catalogue.CONTRACT_DATA, contract, provided=True),
            "filename": personal(catalogue.CONTRACT_DATA, contract, provided=True),
            "proof": personal(catalogue.CONTRACT_DATA, contract, provided=True),
        },
        not_personal=["id", "person"],
        purpose=catalogue.CONTRACT,
        subject_field="person",
    )


@contextmanager
def installed() -> Iterator[type[ThirdPartyCard]]:
    """Register, declare and create the table of :class:`ThirdPartyCard`; undo it all on exit."""
    apps.register_model("rights", ThirdPartyCard)
    _declare()
    try:
        with connection.schema_editor() as editor:
            editor.create_model(ThirdPartyCard)
        try:
            yield ThirdPartyCard
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(ThirdPartyCard)
    finally:
        registry.unregister(LABEL)
        _unregister()
