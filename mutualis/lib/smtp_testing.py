"""A real SMTP server on loopback for tests: what the product sends is read as it was received.

``aiosmtpd`` runs in a thread on 127.0.0.1 with a port of the system's choosing; Django's SMTP
backend is pointed at it, so a message crosses a real SMTP conversation (envelope, headers,
encoding) before the test reads it back with :mod:`email`.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Received:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refuse: set[str] = field(default_factory=set)
    defer: dict[str, int] = field(default_factory=dict)
    drop: set[str] = field(default_factory=set)
    answers: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address, _o):
        if address in self.answers:
            return self.answers[address]
        if address in self.refuse:
            return "550 5.1.1 Destinataire inconnu"
        with self.lock:
            if self.defer.get(address, 0) > 0:
                self.defer[address] -= 1
                return "451 4.3.0 Réessayez plus tard"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        raw = content.encode() if isinstance(content, str) else content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message)  # type: ignore[arg-type]
            )
            dropped = bool(self.drop.intersection(envelope.rcpt_tos))
            self.drop.difference_update(envelope.rcpt_tos)
        if dropped and server.transport is not None:
            # Keep the message but break the connection before the reply: the client cannot
            # know whether it was taken.
            server.transport.close()
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LoopbackSMTP:
    """Start with :meth:`start`, stop with :meth:`stop`; ``messages`` lists what arrived."""

    def __init__(self) -> None:
        self._handler = _Handler()
        # The controller checks readiness by connecting to its port, so it needs a real one.
        self._port = _free_port()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self._port)

    def start(self) -> LoopbackSMTP:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def messages(self) -> list[Received]:
        with self._handler.lock:
            return list(self._handler.received)

    def refuse(self, address: str) -> None:
        """Answer 550 to RCPT TO for ``address`` (a permanent failure)."""
        self._handler.refuse.add(address)

    def accept(self, address: str) -> None:
        """Stop refusing ``address``."""
        self._handler.refuse.discard(address)
        self._handler.answers.pop(address, None)

    def answer(self, address: str, reply: str) -> None:
        """Answer RCPT TO for ``address`` with ``reply`` ("550 5.5.0 …"), every time."""
        self._handler.answers[address] = reply

    def defer(self, address: str, times: int = 1) -> None:
        """Answer 451 to RCPT TO for ``address`` the next ``times`` times (a temporary
        failure)."""
        with self._handler.lock:
            self._handler.defer[address] = times

    def drop_after_data(self, address: str) -> None:
        """Take the next message for ``address``, then close the connection without replying."""
        with self._handler.lock:
            self._handler.drop.add(address)

    def clear(self) -> None:
        with self._handler.lock:
            self._handler.received.clear()
