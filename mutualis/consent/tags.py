from mutualis.audit.tags import Tag


class ConsentTag(Tag):
    CONSENT_GRANT = "consent:consent:grant"
    CONSENT_WITHDRAW = "consent:consent:withdraw"
    OBJECTION_CREATE = "consent:objection:create"
    OBJECTION_LIFT = "consent:objection:lift"
    NOTICE_PUBLISH = "consent:notice:publish"
    RECEIPT_DOWNLOAD = "consent:receipt:download"
    DOCUMENT_READ = "consent:document:read"
    CAMPAIGN_CREATE = "consent:campaign:create"
    CAMPAIGN_EDIT = "consent:campaign:edit"
    CAMPAIGN_REQUEST = "consent:campaign:request"  # staff asked; the job freezes the audience
    CAMPAIGN_SEND = "consent:campaign:send"
    CAMPAIGN_NO_AUDIENCE = "consent:campaign:no_audience"  # nobody left when the job froze it
    CAMPAIGN_PAUSE = "consent:campaign:pause"
    CAMPAIGN_RESUME = "consent:campaign:resume"
    CAMPAIGN_CANCEL = "consent:campaign:cancel"
    CAMPAIGN_FINISH = "consent:campaign:finish"
    CAMPAIGN_BATCH = "consent:campaign:batch"
    CAMPAIGN_EXPORT = "consent:campaign:export"
    CAMPAIGN_HANDOVER = "consent:campaign:handover"  # staff asked for the printer's hand-over
    CAMPAIGN_RECOVER = "consent:campaign:recover"
    UNSUBSCRIBE = "consent:consent:unsubscribe"
    # Processing uses (GDPR art. 18 guard, privacy_check T9): one person's data used to send
    # them a campaign — a consent-based one (communication) or service information (contract).
    CAMPAIGN_DELIVER = "consent:campaign:deliver"
    SERVICE_DELIVER = "consent:service_campaign:deliver"
