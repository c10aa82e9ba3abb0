from mutualis.audit.tags import Tag


class ConsentTag(Tag):
    CONSENT_GRANT = "consent:consent:grant"
    CONSENT_WITHDRAW = "consent:consent:withdraw"
    OBJECTION_CREATE = "consent:objection:create"
    OBJECTION_LIFT = "consent:objection:lift"
