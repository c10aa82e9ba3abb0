"""Test helpers of the contact app.

- A stand-in for the IMAP server: an in-memory folder that answers the commands
  :class:`mutualis.contact.mailbox.ImapMailbox` sends, and keeps the state a real server would
  (flags, arrival dates, expunge).
- Objects for the tests of other apps (the security and accessibility suites): a member's
  inquiry with an attachment, and a complaint.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from mutualis.contact import services
from mutualis.contact.models import Channel, ComplainantType, Inquiry

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class StoredMessage:
    raw: bytes
    arrived: datetime.date
    flags: set[str] = field(default_factory=set)


@dataclass
class FakeImapServer:
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    credentials: tuple[str, str] = ("contact", "s3cret")
    next_uid: int = 1
    expunged: int = 0

    def deliver(self, raw: bytes, arrived: datetime.date) -> int:
        uid = self.next_uid
        self.messages[uid] = StoredMessage(raw, arrived)
        self.next_uid += 1
        return uid

    def client_class(self):
        """A class to pass where ``imaplib.IMAP4_SSL`` is expected."""
        server = self

        class Client:
            def __init__(self, host, port):
                self.host, self.port = host, port

            def login(self, user, password):
                if (user, password) != server.credentials:
                    raise OSError("authentication failed")

            def select(self, mailbox):
                return "OK", [str(len(server.messages)).encode()]

            def uid(self, command, *args):
                if command == "SEARCH":
                    return "OK", [" ".join(str(u) for u in server.search(args[1:])).encode()]
                uid = int(args[0])
                if command == "FETCH":
                    message = server.messages.get(uid)
                    if message is None:
                        return "OK", [None]
                    return "OK", [
                        (b"%d (UID %d BODY[] {%d}" % (uid, uid, len(message.raw)), message.raw),
                        b")",
                    ]
                if command == "STORE":
                    assert args[1:] == ("+FLAGS", "(\\Deleted)"), args
                    server.messages[uid].flags.add("\\Deleted")
                    return "OK", []
                raise AssertionError(f"unexpected IMAP command {command}")

            def expunge(self):
                server.expunge()
                return "OK", []

            def logout(self):
                return "BYE", []

        return Client

    def search(self, criteria) -> list[int]:
        criteria = list(criteria)
        found = []
        for uid, message in sorted(self.messages.items()):
            if "DELETED" in criteria and "\\Deleted" in message.flags:
                continue
            if "BEFORE" in criteria:
                day, month, year = criteria[criteria.index("BEFORE") + 1].split("-")
                bound = datetime.date(int(year), _MONTHS.index(month) + 1, int(day))
                if message.arrived >= bound:
                    continue
            found.append(uid)
        return found

    def expunge(self) -> None:
        for uid in [u for u, m in self.messages.items() if "\\Deleted" in m.flags]:
            del self.messages[uid]
            self.expunged += 1


IMAP_SETTINGS = {
    "host": "imap.mutuelle.example",
    "port": 993,
    "user": "contact",
    "password": "s3cret",
    "mailbox": "INBOX",
    "ssl": True,
}


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CORRESPONDENCE_MARKER = "Question-correspondance-marqueur"
COMPLAINT_MARKER = "Motif-reclamation-marqueur"


def member_inquiry(member, *, body: str = CORRESPONDENCE_MARKER) -> Inquiry:
    """A thread the member opened from their space, with one PDF attached."""
    return services.open_inquiry(
        channel=Channel.MEMBER_SPACE,
        subject="Question sur mes remboursements",
        body=body,
        person=member.person,
        files=[services.IncomingFile("releve.pdf", PDF, "application/pdf")],
        actor=member.account,
    )


def member_complaint(member):
    inquiry = member_inquiry(member, body="Je suis mécontente du délai de traitement.")
    return services.qualify_as_complaint(
        inquiry=inquiry, complainant_type=ComplainantType.MEMBER, reason=COMPLAINT_MARKER
    )
