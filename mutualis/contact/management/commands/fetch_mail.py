"""Ingest the e-mails sent to the mutuelle: from the configured IMAP mailbox, or from a local
maildir, a folder of ``.eml`` files or one ``.eml`` file (``--path``). Idempotent.

A message fetched from the mailbox is deleted from it (and expunged) once stored, so that no copy
outlives the three months the policy promises there (``contact.mailbox``). Local files are read
only: they are a copy the operator handles.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from mutualis.contact import mailbox as imap
from mutualis.contact.inbound import ingest
from mutualis.lib.french import plural
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


class Command(JobCommand):
    help = (
        "Relève les courriels reçus (boîte IMAP ou dossier local) et les enregistre "
        "(idempotent) ; chaque message enregistré est supprimé de la boîte IMAP."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", help="maildir, dossier de fichiers .eml ou fichier .eml")

    def handle(self, *args, **options) -> None:
        counts = {"created": 0, "skipped": 0, "failed": 0}
        if options["path"]:
            for name, raw in local_messages(Path(options["path"])):
                self._store(name, raw, counts)
        else:
            try:
                with imap.connect(settings.MUTUALIS_IMAP) as box:
                    for message in box.messages():
                        if self._store(message.uid, message.raw, counts):
                            box.delete(message.uid)
            except imap.MailboxError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{counts['created']} message{plural(counts['created'])} "
            f"enregistré{plural(counts['created'])}, {counts['skipped']} déjà "
            f"connu{plural(counts['skipped'])}, {counts['failed']} en erreur."
        )
        if counts["failed"]:
            failed = counts["failed"]
            verb = "n'ont pas pu être enregistrés" if failed > 1 else "n'a pas pu être enregistré"
            raise CommandError(f"{failed} message{plural(failed)} {verb}.")

    def _store(self, name: str, raw: bytes, counts: dict[str, int]) -> bool:
        """Record one message; True once it is stored (now or before)."""
        try:
            _message, new = ingest(raw)
        except Exception as exc:  # one bad message must not stop the others
            counts["failed"] += 1
            self.stderr.write(f"Message {name} non enregistré : {type(exc).__name__}")
            return False
        counts["created" if new else "skipped"] += 1
        return True
