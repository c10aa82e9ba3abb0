from mutualis.audit.tags import Tag


class RightsTag(Tag):
    REQUEST_FILE = "rights:request:file"
    REQUEST_MERGE = "rights:request:merge"
    REQUEST_STATUS = "rights:request:status"
    IDENTITY_CHECK = "rights:identity:check"
    IDENTITY_ASK = "rights:identity:ask"
    REQUEST_EXTEND = "rights:request:extend"
    REQUEST_ANSWER = "rights:request:answer"
    REQUEST_REFUSE = "rights:request:refuse"
    REQUEST_CLOSE = "rights:request:close"
    REQUEST_NOTE = "rights:request:note"
    REQUEST_ATTACH = "rights:request:attach"
    # Requests from people without an account: held, then verified (rights/public.py).
    PENDING_CREATE = "rights:pending:create"
    PENDING_VERIFY = "rights:pending:verify"
    EXPORT_DOWNLOAD = "rights:export:download"
    RECTIFICATION_APPLY = "rights:rectification:apply"
    RECIPIENT_NOTIFY = "rights:recipient:notify"
    ERASURE_APPLY = "rights:erasure:apply"
    ERASURE_REPLAY = "rights:erasure:replay"
    OBJECTION_DECIDE = "rights:objection:decide"
    DIRECTIVE_RECORD = "rights:directive:record"
    DIRECTIVE_REVOKE = "rights:directive:revoke"
    DEATH_RECORD = "rights:death:record"
    DIRECTIVE_APPLY = "rights:directive:apply"
