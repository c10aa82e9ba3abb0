"""Benchmark of a campaign's sending against a plain ``smtplib`` loop sending the same messages.

    .venv/bin/python bench/campaign_send.py --recipients 100000
    .venv/bin/python bench/campaign_send.py --scale 0.01            # 1,000 recipients
    .venv/bin/python bench/campaign_send.py --recipients 100000 \\
        --database-url postgres://mutualis:mutualis@127.0.0.1:5432/postgres

Builds N people who accepted the newsletter by e-mail (written in bulk with
``mutualis.generate.writer``, as ``manage.py generate_members`` does), starts a local SMTP server
in a separate process (aiosmtpd, on loopback, counting what it receives), then, in the same run:

- **campaign**: ``start_sending`` (the audience computed from the consents, objections,
  restrictions and deaths, frozen into the send log) and ``send_campaign`` (claims in batches,
  the eligibility check of each batch, one message per recipient with its unsubscribe headers,
  each row settled as the server answers), without throttling, over one SMTP connection;
- **baseline**: a plain loop over the same recipients that builds the same two-part message
  (the same text and HTML, the same headers) with the standard library and sends it with
  ``smtplib.SMTP.send_message`` over one connection: no database at all.

It prints messages per second for both and the ratio campaign/baseline (target: at least 0.5),
and checks that the server received 2 × N messages. SQLite lives in a temporary directory; with
``--database-url`` a scratch PostgreSQL database is created beside the one named and dropped at
the end. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import email.message
import email.policy
import importlib.util
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import Result, report  # noqa: E402

DEFAULT_RECIPIENTS = 100_000
TARGET = 0.5
NOW = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)


def _sibling(name: str):
    """Another benchmark of this folder, as a module (its bulk writer and scratch database)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).with_name(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, help=f"default {DEFAULT_RECIPIENTS:,}")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the default size")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in a temp dir)")
    parser.add_argument("--smtp-server", type=int, help=argparse.SUPPRESS)  # internal
    args = parser.parse_args(argv)
    if args.recipients is None:
        args.recipients = max(1, int(DEFAULT_RECIPIENTS * args.scale))
    return args


# --- The SMTP server, in its own process --------------------------------------------------------
def serve_smtp(port: int) -> None:
    """Receive and count messages until stdin closes, then print the count."""
    from aiosmtpd.controller import Controller

    class Counter:
        received = 0

        async def handle_DATA(self, server, session, envelope):
            Counter.received += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    print(Counter.received, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    def __enter__(self):
        self.port = free_port()
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, __file__, "--smtp-server", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"
        return self

    def __exit__(self, *exc) -> None:
        self.process.stdin.close()
        self.received = int(self.process.stdout.readline() or 0)
        self.process.wait()


# --- Data -----------------------------------------------------------------------------------
def build(recipients: int, writer_class) -> None:
    from mutualis.consent.models import ConsentEvent, Preference
    from mutualis.consent.notices import current_notice
    from mutualis.members.models import Person
    from mutualis.vault import services as vault
    from mutualis.vault.models import DataKey

    notice = current_notice("newsletter")
    writer = writer_class()
    key = vault.build_data_key()
    for i in range(recipients):
        key_id = uuid.uuid4()
        writer.add(
            DataKey,
            id=key_id,
            wrapped_key=key.wrapped_key,
            master_key_id=key.master_key_id,
            created_at=NOW,
        )
        person = uuid.uuid4()
        writer.add(
            Person,
            id=person,
            data_key_id=key_id,
            civility="MME" if i % 2 else "M",
            last_name=f"Durand{i % 97}",
            first_names=f"Camille{i % 89}",
            birth_date="bench",  # never read by a campaign
            email=f"personne{i}@example.org",
            created_at=NOW,
            updated_at=NOW,
        )
        event = uuid.uuid4()
        common = {"person_id": person, "topic": "newsletter", "channel": "email"}
        writer.add(
            ConsentEvent,
            id=event,
            **common,
            action="granted",
            at=NOW,
            source="subscription",
            actor="system",
            notice_id=notice.pk,
        )
        writer.add(Preference, id=uuid.uuid4(), **common, granted=True, since=NOW, event_id=event)
        if i % 5000 == 4999:
            writer.flush()
    writer.flush()


# --- The two sides ------------------------------------------------------------------------------
def send_campaign(port: int) -> float:
    from django.conf import settings

    from mutualis.consent import campaigns, sending
    from mutualis.web.campaigns.links import campaign_links

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    campaign = campaigns.create_campaign(
        title="Banc d'essai",
        kind="newsletter",
        channel="email",
        subject="Les nouvelles de votre mutuelle",
        body="Bonjour {prenom},\n\nVoici nos nouvelles du mois.\n\nVotre mutuelle",
        actor=None,
    )
    started = time.perf_counter()
    campaign = campaigns.start_sending(campaign=campaign, actor=None)
    report = sending.send_campaign(campaign=campaign, links=campaign_links(), rate=0)
    elapsed = time.perf_counter() - started
    if report.stopped:
        raise SystemExit(f"the sending stopped: {report.stopped}")
    return elapsed


def baseline(port: int) -> float:
    """The same messages, built with the standard library and sent with smtplib."""
    from django.conf import settings

    from mutualis.consent.campaigns import personalise
    from mutualis.consent.messages import from_address
    from mutualis.members.models import Person

    people = list(
        Person.objects.order_by("pk").values_list("pk", "email", "first_names", "last_name")
    )
    body = "Bonjour {prenom},\n\nVoici nos nouvelles du mois.\n\nVotre mutuelle"
    sender = from_address()
    organisation = settings.MUTUALIS_ORGANISATION
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for pk, address, first, last in people:
            text = personalise(body, first_names=first, last_name=last, civility="")
            url = f"{settings.MUTUALIS_SITE_URL}/desinscription/{pk.hex}:{'x' * 43}/"
            message = email.message.EmailMessage(policy=email.policy.SMTP)
            message["Subject"] = "Les nouvelles de votre mutuelle"
            message["From"] = sender
            message["To"] = address
            message["Message-ID"] = f"<{uuid.uuid4().hex}@127.0.0.1>"
            message["List-Unsubscribe"] = f"<{url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            message["List-Id"] = '"Informations" <newsletter.127.0.0.1>'
            footer = f"\n\n--\n{organisation['name']}\nSe désinscrire : {url}\n"
            message.set_content(text + footer)
            message.add_alternative(
                f"<p>{text}</p><p><a href='{url}'>Se désinscrire</a></p>", "html"
            )
            connection.send_message(message)
    return time.perf_counter() - started


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.smtp_server:
        serve_smtp(args.smtp_server)
        return
    rights_access = _sibling("rights_access.py")
    with tempfile.TemporaryDirectory(prefix="mutualis-bench-") as tmp:
        workdir = Path(tmp)
        url, drop = rights_access.scratch_database(args.database_url, workdir)
        try:
            rights_access.setup_django(url, workdir)
            from django.db import connection

            print(
                f"Base : {connection.vendor}, {args.recipients:,} destinataires".replace(",", " ")
            )
            from mutualis.generate.writer import Writer

            build(args.recipients, Writer)
            with SmtpServer() as server:
                ours = send_campaign(server.port)
                base = baseline(server.port)
            from mutualis.consent.models import Delivery, DeliveryStatus

            sent = Delivery.objects.filter(status=DeliveryStatus.SENT).count()
        finally:
            drop()
    if sent != args.recipients or server.received != 2 * args.recipients:
        raise SystemExit(f"sent {sent}, server received {server.received}")
    print(f"campagne : {ours:.2f} s ; référence smtplib : {base:.2f} s")
    report(
        Result.of(
            f"campaign send ({'postgresql' if args.database_url else 'sqlite'})",
            args.recipients / ours,
            args.recipients / base,
            "messages/s",
            f">= {TARGET}",
        )
    )


if __name__ == "__main__":
    main()
