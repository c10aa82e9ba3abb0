"""The consent models are fully declared (policy 1-C: purpose COMMUNICATION, PREFERENCES)."""

from __future__ import annotations

import pytest
from django.apps import apps

from mutualis.privacy import catalogue, registry
from mutualis.privacy.checks import model_problems


@pytest.mark.parametrize(
    "label", ["consent.ConsentEvent", "consent.Preference", "consent.MarketingObjection"]
)
def test_every_field_is_declared_for_communication(label):
    model = apps.get_model(label)
    declaration = registry.get(label)
    assert model_problems(model, declaration) == []
    assert declaration.subject_field == "person"
    assert declaration.purpose is catalogue.COMMUNICATION
    for field in declaration.fields.values():
        assert field.category is catalogue.PREFERENCES
        assert field.purposes == frozenset({catalogue.COMMUNICATION})
    assert catalogue.COMMUNICATION.legal_basis.letter == "a"  # consent, GDPR art. 6(1)(a)
