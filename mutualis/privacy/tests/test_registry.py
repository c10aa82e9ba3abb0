"""The registry's declarations in order: sorted once, sorted again when one changes."""

from __future__ import annotations

import dataclasses

from mutualis.privacy import registry


def test_the_declarations_come_sorted_by_model_and_the_same_until_one_changes(monkeypatch):
    first = registry.declarations_in_order()
    assert [d.model.lower() for d in first] == sorted(d.model.lower() for d in first)
    assert registry.declarations_in_order() is first  # not sorted again
    assert list(registry.all_declarations()) == list(first)

    person = registry.get("members.Person")
    changed = dataclasses.replace(person, anonymised_field="")
    monkeypatch.setitem(registry._declarations, "members.person", changed)  # as a test does

    found = registry.declarations_in_order()
    assert found is not first
    assert any(d is changed for d in found) and not any(d is person for d in found)

    registry.unregister("members.Person")
    assert all(d.model != "members.Person" for d in registry.declarations_in_order())
    registry._register(person)
    assert any(d is person for d in registry.declarations_in_order())
