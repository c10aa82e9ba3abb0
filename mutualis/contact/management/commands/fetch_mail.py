"""Ingest the e-mails sent to the mutuelle: from the configured IMAP mailbox, or from a local
maildir, a folder of ``.eml`` files or one ``.eml`` file (``--path``). Idempotent."""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from mutualis.contact.inbound import ingest
from mutualis.lib.jobs import JobCommand


def local_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    if path.is_file():
        yield path.name, path.read_bytes()
        return
    if not path.is_dir():
        raise CommandError(f"Dossier ou fichier introuvable : {path}")
    if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
        box = mailbox.Maildir(path, factory=None, create=False)
        for key in box.iterkeys():
            yield key, box.get_bytes(key)
        return
    for file in sorted(path.glob("*.eml")):
        yield file.name, file.read_bytes()


def imap_messages(config: dict) -> Iterator[tuple[str, bytes, callable]]:
    """Unseen messages of the mailbox, each with a callback marking it seen once recorded."""
    if not config.get("host"):
        raise CommandError(
            "Aucune boîte configurée : renseignez MUTUALIS_IMAP_HOST (et _USER, _PASSWORD) "
            "ou utilisez --path."
        )
    cls = imaplib.IMAP4_SSL if config.get("ssl", True) else imaplib.IMAP4
    try:
        client = cls(config["host"], config["port"])
        client.login(config["user"], config["password"])
        status, _ = client.select(config.get("mailbox") or "INBOX")
        if status != "OK":
            raise CommandError(f"Boîte {config.get('mailbox')!r} inaccessible.")
        _, data = client.uid("SEARCH", None, "UNSEEN")
    except (OSError, imaplib.IMAP4.error) as exc:
        raise CommandError(f"Connexion IMAP impossible : {exc}") from None
    try:
        for uid in (data[0] or b"").split():
            _, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in fetched if isinstance(part, tuple)), None)
            if raw is None:
                continue
            yield (
                uid.decode(),
                raw,
                lambda uid=uid: client.uid("STORE", uid, "+FLAGS", "(\\Seen)"),
            )
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()


class Command(JobCommand):
    help = "Relève les courriels reçus (IMAP ou dossier local) et les enregistre (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", help="maildir, dossier de fichiers .eml ou fichier .eml")

    def handle(self, *args, **options) -> None:
        created = skipped = failed = 0
        if options["path"]:
            source = ((name, raw, None) for name, raw in local_messages(Path(options["path"])))
        else:
            source = imap_messages(settings.MUTUALIS_IMAP)
        for name, raw, mark_seen in source:
            try:
                _message, new = ingest(raw)
            except Exception as exc:  # one bad message must not stop the others
                failed += 1
                self.stderr.write(f"Message {name} non enregistré : {type(exc).__name__}")
                continue
            created += new
            skipped += not new
            if mark_seen is not None:
                mark_seen()
        self.stdout.write(
            f"{created} message(s) enregistré(s), {skipped} déjà connu(s), {failed} en erreur."
        )
        if failed:
            raise CommandError(f"{failed} message(s) n'ont pas pu être enregistrés.")
