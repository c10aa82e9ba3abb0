from __future__ import annotations

import uuid

from django.db import models
from django.test.utils import isolate_apps

from mutualis.vault.blind_index import BlindIndexField
from mutualis.vault.fields import EncryptedTextField
from mutualis.vault.models import DataKey


def field_errors(model, name):
    return [e.id for e in model._meta.get_field(name).check()]


@isolate_apps("mutualis.vault")
def test_an_encrypted_field_on_an_auto_increment_model_is_an_error():
    class AutoPk(models.Model):
        data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
        nir = EncryptedTextField(null=True)

        class Meta:
            app_label = "vault"

    assert field_errors(AutoPk, "nir") == ["vault.E010"]


@isolate_apps("mutualis.vault")
def test_an_encrypted_field_needs_a_key_field_to_data_key():
    class NoKey(models.Model):
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        nir = EncryptedTextField(null=True)
        other = EncryptedTextField(null=True, key_field="id")

        class Meta:
            app_label = "vault"

    assert field_errors(NoKey, "nir") == ["vault.E011"]
    assert field_errors(NoKey, "other") == ["vault.E011"]


@isolate_apps("mutualis.vault")
def test_a_well_formed_model_passes_the_field_checks():
    class Fine(models.Model):
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        key = models.OneToOneField(DataKey, on_delete=models.PROTECT, related_name="+")
        nir = EncryptedTextField(null=True, key_field="key")
        nir_index = BlindIndexField(source="nir", purpose="nir")

        class Meta:
            app_label = "vault"

    assert field_errors(Fine, "nir") == []
    assert field_errors(Fine, "nir_index") == []


@isolate_apps("mutualis.vault")
def test_a_blind_index_needs_an_encrypted_source():
    class Clear(models.Model):
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        name = models.CharField(max_length=10)
        name_index = BlindIndexField(source="name", purpose="name")

        class Meta:
            app_label = "vault"

    assert field_errors(Clear, "name_index") == ["vault.E012"]


def test_fields_deconstruct_for_migrations():
    from mutualis.vault.blind_index import compact_upper

    field = BlindIndexField(source="nir", purpose="nir", normalizer=compact_upper)
    _, path, args, kwargs = field.deconstruct()
    assert path == "mutualis.vault.blind_index.BlindIndexField"
    assert kwargs == {"source": "nir", "purpose": "nir", "normalizer": compact_upper}
    assert BlindIndexField(*args, **kwargs).db_index is True

    _, path, _, kwargs = EncryptedTextField(null=True, key_field="key").deconstruct()
    assert path == "mutualis.vault.fields.EncryptedTextField"
    assert kwargs == {"null": True, "key_field": "key"}
