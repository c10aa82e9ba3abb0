from mutualis.audit.tags import Tag


class BreachTag(Tag):
    RECORD = "breaches:breach:record"
    UPDATE = "breaches:breach:update"
    NOTIFY = "breaches:breach:notify"
    DECIDE = "breaches:breach:decide"
    PEOPLE_ADD = "breaches:people:add"
    LETTERS_SEND = "breaches:letters:send"
    LETTERS_EXPORT = "breaches:letters:export"
    CLOSE = "breaches:breach:close"
    REOPEN = "breaches:breach:reopen"
    REGISTER_EXPORT = "breaches:register:export"
