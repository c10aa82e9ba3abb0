"""Refuse an oversized upload while it streams in, before it fills a disk.

Django writes a large uploaded file to a temporary file whatever its size; the form's size check
only runs afterwards. :class:`SizeLimitedUploadHandler`, placed first, stops the parsing of the
request once the files it carries exceed the limit (the pattern of Django's documentation,
"Writing custom upload handlers"). It must be installed before anything reads ``request.POST``,
so a view using it is ``csrf_exempt`` and checks CSRF itself with ``csrf_protect`` afterwards.
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest


class SizeLimitedUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest | None = None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.exceeded = True
            # Read and discard the rest of the body (no reset: the answer still reaches the
            # browser), keep nothing of the file.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def limit_upload_size(request: HttpRequest, max_bytes: int) -> SizeLimitedUploadHandler:
    """Install the handler on ``request`` (before ``request.POST`` is read) and return it."""
    handler = SizeLimitedUploadHandler(request, max_bytes=max_bytes)
    request.upload_handlers.insert(0, handler)
    return handler


def declared_length(request: HttpRequest) -> int:
    """The body length the client announced (0 when absent or not a number)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0
