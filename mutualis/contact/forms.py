"""Form fields shared by every face that takes correspondence: the public contact form, the
member space and the back office. The rules live in one place: the length of a message
(``MUTUALIS_MESSAGE_MAX_CHARS``), the size of a file (``MUTUALIS_UPLOAD_MAX_BYTES``) and the
accepted types, checked by content through :func:`~mutualis.contact.services.check_upload`.
"""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from mutualis.contact.services import (
    ALLOWED_UPLOAD_TYPES,
    AttachmentRefused,
    IncomingFile,
    check_upload,
)

_PHONE = re.compile(r"^[0-9 +().\-]{6,20}$")


def max_upload_label() -> str:
    return f"{settings.MUTUALIS_UPLOAD_MAX_BYTES // (1024 * 1024)} Mo"


def accepted_types_label() -> str:
    return ", ".join(ALLOWED_UPLOAD_TYPES.values())


def too_large_message() -> str:
    return f"Le fichier dépasse la taille maximale ({max_upload_label()})."


def _clean_filename(name: str) -> str:
    """The base name, without control characters, at most 255 characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:255] or "piece-jointe"


class AttachmentField(forms.FileField):
    """An optional file, refused when too large or not a PDF, JPEG or PNG by its content.

    ``clean`` returns an :class:`IncomingFile` (or ``None``), ready for the contact services.
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Pièce jointe (facultatif)")
        kwargs.setdefault(
            "help_text",
            f"Un fichier {accepted_types_label()}, {max_upload_label()} au plus.",
        )
        kwargs.setdefault(
            "widget",
            forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
        )
        super().__init__(**kwargs)

    def clean(self, data, initial=None) -> IncomingFile | None:
        upload = super().clean(data, initial)
        if not upload:
            return None
        limit = settings.MUTUALIS_UPLOAD_MAX_BYTES
        if upload.size is not None and upload.size > limit:
            raise ValidationError(too_large_message(), code="too_large")
        content = upload.read(limit + 1)
        file = IncomingFile(filename=_clean_filename(upload.name or ""), content=content)
        try:
            sniffed = check_upload(file)
        except AttachmentRefused as refused:
            raise ValidationError(str(refused), code="refused") from None
        return IncomingFile(filename=file.filename, content=content, declared_type=sniffed)


def message_field(label: str = "Votre message", **kwargs) -> forms.CharField:
    """A message body, limited to ``MUTUALIS_MESSAGE_MAX_CHARS`` (read when the form is built)."""
    limit = settings.MUTUALIS_MESSAGE_MAX_CHARS
    kwargs.setdefault("help_text", f"{limit} caractères au plus.")
    return forms.CharField(
        label=label,
        max_length=limit,
        widget=forms.Textarea(attrs={"rows": 8, "maxlength": str(limit)}),
        **kwargs,
    )


class PhoneField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("label", "Téléphone (facultatif)")
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value and not _PHONE.fullmatch(value):
            raise ValidationError(
                "Saisissez un numéro de téléphone (chiffres, espaces, « + » ou « . »).",
                code="invalid",
            )
        return value
