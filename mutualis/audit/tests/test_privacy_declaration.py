from mutualis.audit.models import ChainHead, Disclosure, Event
from mutualis.privacy import catalogue as c
from mutualis.privacy import registry
from mutualis.privacy.checks import model_problems


def test_every_audit_field_is_declared():
    for model in (Event, Disclosure, ChainHead):
        assert model_problems(model, registry.get(model._meta.label)) == []


def test_people_appear_in_the_audit_log_as_technical_data_for_security_logging():
    declaration = registry.get("audit.Event")
    assert set(declaration.fields) == {"subject_id", "actor", "details"}
    for field in declaration.fields.values():
        assert field.category == c.TECHNICAL
        assert field.purposes == {c.SECURITY_LOGGING}
        assert not field.provided_by_subject
    assert declaration.retention_anchor == "at"
    assert not registry.get("audit.ChainHead").holds_personal_data
