"""The mailbox the mutuelle's e-mails arrive in (IMAP), read by ``manage.py fetch_mail``.

The policy keeps an e-mail three months at most (section II), every copy included: once a
message is stored here it is deleted from the mailbox (flagged ``\\Deleted``, then expunged), so
the mailbox never becomes a second archive. A message that could not be stored stays, to be
fetched again; ``privacy_check`` (T1) reports any message left there longer than a day.

:class:`ImapMailbox` wraps the standard library's :mod:`imaplib`: it is the only code that talks
to the mail server (tests give it a stand-in for the server).
"""

from __future__ import annotations

import contextlib
import datetime
import imaplib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# A message still in the mailbox after this long was not stored: fetching is stuck, or the
# message cannot be read (privacy_check T1).
MAILBOX_GRACE = datetime.timedelta(days=1)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class MailboxError(Exception):
    """The mailbox cannot be reached or read (French message)."""


@dataclass(frozen=True)
class Fetched:
    uid: str
    raw: bytes


def connect(config: dict, *, client_class: Callable[..., Any] | None = None) -> ImapMailbox:
    """Log into the configured mailbox (``settings.MUTUALIS_IMAP``) and select its folder."""
    if not config.get("host"):
        raise MailboxError(
            "Aucune boîte configurée : renseignez MUTUALIS_IMAP_HOST (et _USER, _PASSWORD) "
            "ou utilisez --path."
        )
    cls = client_class or (imaplib.IMAP4_SSL if config.get("ssl", True) else imaplib.IMAP4)
    folder = config.get("mailbox") or "INBOX"
    try:
        client = cls(config["host"], config["port"])
        client.login(config["user"], config["password"])
        status, _ = client.select(folder)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"Connexion IMAP impossible : {exc}") from None
    if status != "OK":
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
        raise MailboxError(f"Boîte {folder!r} inaccessible.")
    return ImapMailbox(client)


class ImapMailbox:
    """One session on the selected folder. Use as a context manager (logs out at the end)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._deleted = 0

    def __enter__(self) -> ImapMailbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _uids(self, *criteria: str) -> list[bytes]:
        try:
            status, data = self.client.uid("SEARCH", None, *criteria)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"Lecture de la boîte impossible : {exc}") from None
        if status != "OK":
            raise MailboxError("Lecture de la boîte impossible.")
        return (data[0] or b"").split()

    def messages(self) -> Iterator[Fetched]:
        """Every message not yet deleted, oldest first (read without marking it seen)."""
        for uid in self._uids("NOT", "DELETED"):
            try:
                _, fetched = self.client.uid("FETCH", uid, "(BODY.PEEK[])")
            except (OSError, imaplib.IMAP4.error) as exc:
                raise MailboxError(
                    f"Lecture du message {uid.decode()} impossible : {exc}"
                ) from None
            raw = next((part[1] for part in fetched or () if isinstance(part, tuple)), None)
            if raw is not None:
                yield Fetched(uid.decode(), raw)

    def delete(self, uid: str) -> None:
        """Flag a stored message for deletion; :meth:`close` expunges the flagged ones."""
        try:
            self.client.uid("STORE", uid, "+FLAGS", "(\\Deleted)")
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"Suppression du message {uid} impossible : {exc}") from None
        self._deleted += 1

    def count_older_than(self, moment: datetime.datetime) -> int:
        """Messages that arrived in the mailbox before ``moment``'s day (IMAP ``BEFORE``)."""
        day = moment.date()
        day = f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year}"  # RFC 3501 date, English
        return len(self._uids("NOT", "DELETED", "BEFORE", day))

    def close(self) -> None:
        """Expunge what was deleted, then log out."""
        try:
            if self._deleted:
                self.client.expunge()
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"Purge de la boîte impossible : {exc}") from None
        finally:
            self._deleted = 0
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                self.client.logout()
