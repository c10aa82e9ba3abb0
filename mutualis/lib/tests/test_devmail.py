"""The development e-mail backend writes one readable .eml file per message."""

from __future__ import annotations

import email
import email.policy

from django.core.mail import EmailMessage

from mutualis.lib import devmail


def test_each_message_is_one_eml_file_with_readable_headers(settings, tmp_path):
    settings.EMAIL_BACKEND = "mutualis.lib.devmail.EmailBackend"
    settings.MUTUALIS_DEV_MAIL_DIR = tmp_path / "mail"
    message = EmailMessage(
        subject="Réponse à votre demande DR26-1A2B3C4D",
        body="Bonjour Inès,\n\nvoici la réponse.",
        to=["ines@example.org"],
    )
    message.attach("donnees.json", b'{"a": 1}', "application/json")
    assert message.send() == 1
    (path,) = (tmp_path / "mail").glob("*.eml")
    text = path.read_text()
    assert "Subject: Réponse à votre demande DR26-1A2B3C4D" in text
    assert "Bonjour Inès" in text
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["To"] == "ines@example.org"
    attachment = next(parsed.iter_attachments())
    assert attachment.get_content() == b'{"a": 1}'
    assert devmail.mail_dir() == tmp_path / "mail"
