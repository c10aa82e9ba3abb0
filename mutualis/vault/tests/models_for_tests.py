"""A model with encrypted fields, for the vault's tests only.

It is unregistered from the app registry as soon as it is defined, so ``makemigrations`` and the
privacy check never see it; the ``person_model`` fixture registers it, declares it and creates
its table for the duration of a test module only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps
from django.db import connection, models

from mutualis.privacy import catalogue, registry
from mutualis.privacy.declaration import personal
from mutualis.vault.blind_index import BlindIndexField, compact_upper
from mutualis.vault.fields import EncryptedDateField, EncryptedTextField
from mutualis.vault.models import DataKey

LABEL = "vault.Person"


class Person(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100, blank=True)
    nir = EncryptedTextField(null=True, blank=True, max_length=21)
    nir_index = BlindIndexField(source="nir", purpose="nir", normalizer=compact_upper)
    iban = EncryptedTextField(null=True, blank=True)
    birth_date = EncryptedDateField(null=True, blank=True)

    class Meta:
        app_label = "vault"
        db_table = "vault_test_person"

    def __str__(self) -> str:
        return self.name


def _unregister() -> None:
    apps.all_models["vault"].pop(Person._meta.model_name, None)
    apps.clear_cache()


_unregister()


def _declare() -> None:
    registry.declare(
        LABEL,
        fields={
            "name": personal(catalogue.IDENTITY, [catalogue.CONTRACT], provided=True),
            "nir": personal(
                catalogue.ADMINISTRATIVE, [catalogue.CONTRACT], provided=True, encrypted=True
            ),
            "nir_index": personal(catalogue.ADMINISTRATIVE, [catalogue.CONTRACT], provided=False),
            "iban": personal(catalogue.BANK, [catalogue.CONTRACT], provided=True, encrypted=True),
            "birth_date": personal(
                catalogue.IDENTITY, [catalogue.CONTRACT], provided=True, encrypted=True
            ),
        },
        not_personal=["id", "data_key"],
    )


@contextmanager
def installed() -> Iterator[type[Person]]:
    """Register, declare and create the table of :class:`Person`; undo it all on exit."""
    apps.register_model("vault", Person)
    _declare()
    try:
        with connection.schema_editor() as editor:
            editor.create_model(Person)
        try:
            yield Person
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(Person)
    finally:
        registry.unregister(LABEL)
        _unregister()
