"""A stand-in for the IMAP server in tests: an in-memory folder that answers the commands
:class:`mutualis.contact.mailbox.ImapMailbox` sends, and keeps the state a real server would
(flags, arrival dates, expunge)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

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
