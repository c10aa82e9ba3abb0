from mutualis.audit.tags import Tag


class ContactTag(Tag):
    INQUIRY_CREATE = "contact:inquiry:create"
    INQUIRY_STATUS = "contact:inquiry:status"
    INQUIRY_ASSIGN = "contact:inquiry:assign"
    MESSAGE_RECEIVE = "contact:message:receive"
    MESSAGE_SEND = "contact:message:send"
    COMPLAINT_QUALIFY = "contact:complaint:qualify"
    COMPLAINT_ACKNOWLEDGE = "contact:complaint:acknowledge"
    COMPLAINT_ANSWER = "contact:complaint:answer"
    # Sensitive reads in the back office: a thread opened, an attachment downloaded.
    INQUIRY_READ = "contact:inquiry:read"
    ATTACHMENT_READ = "contact:attachment:read"
