from mutualis.audit.tags import Tag


class AudienceTag(Tag):
    VISITOR_FORGET = "audience:visitor:forget"
    DAY_AGGREGATE = "audience:day:aggregate"
    EVENTS_EXPIRE = "audience:event:expire"
