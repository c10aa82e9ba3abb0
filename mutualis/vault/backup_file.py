"""The encrypted container of backup files: an authenticated header, then AES-256-GCM frames.

Layout (all integers big-endian)::

    magic "MTLSBAK1" (8 bytes)
    header length (4 bytes) | header (UTF-8 JSON object)
    header nonce (12 bytes) | header tag (16 bytes)
    frames, each: ciphertext length (4 bytes) | nonce (12 bytes) | ciphertext (tag included)

Rules:

- The plaintext is a gzip stream (of JSON lines, see :mod:`mutualis.vault.backup`), cut into frames
  of :data:`FRAME_BYTES`.
- Each file has its own key: HKDF-SHA256 of the backup key, salted with the file's random
  ``file_id`` and labelled with its ``kind`` (``data`` or ``keys``). So a frame cannot be moved
  to another file, nor a key-store file read as a data file.
- The header is readable without the key (format, kind, dates, tables, counts, hashes) but
  authenticated: its GCM tag covers the magic, its length and its bytes.
- Each frame's associated data is the magic, the kind, its index and a last-frame flag: a
  reordered, dropped or truncated frame, or bytes after the last one, are detected.
- The header names the backup key by id (SHA-256 prefix), so a wrong key is told apart from an
  altered file.

Every failure raises :class:`BackupError` with a French message for the operator.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import struct
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mutualis.lib.cli import os_error
from mutualis.vault.keys import BackupKey, BackupKeyRing

MAGIC = b"MTLSBAK1"
FORMAT = "mutualis-backup"
FORMAT_VERSION = 1
FRAME_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024 * 1024
NONCE_BYTES = 12
TAG_BYTES = 16
_LENGTH = struct.Struct(">I")
_FRAME_AAD = struct.Struct(">QB")
_KINDS = {
    "data": "sauvegarde des données",
    "keys": "sauvegarde du magasin de clés",
    # The authorities' exports (mutualis.recipients.requisitions) use the same container.
    "requisition": "archive de réquisition",
}


class BackupError(Exception):
    """A backup cannot be written or read; the message is meant for the operator (French)."""


def _file_key(key: BackupKey, file_id: bytes, kind: str) -> AESGCM:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=file_id,
        info=f"mutualis:backup:v{FORMAT_VERSION}:{kind}".encode(),
    )
    return AESGCM(hkdf.derive(key.secret))


def _frame_aad(kind: str, index: int, last: bool) -> bytes:
    return MAGIC + kind.encode() + _FRAME_AAD.pack(index, 1 if last else 0)


def _header_aad(header_bytes: bytes) -> bytes:
    return MAGIC + _LENGTH.pack(len(header_bytes)) + header_bytes


class BackupWriter:
    """Compress, cut into frames and encrypt a stream; write the file atomically on close.

    Frames go to a temporary file next to the destination (encrypted: no plaintext touches the
    disk); :meth:`close` writes the header, now that counts and hashes are known, then the
    frames, and renames the result into place.
    """

    def __init__(self, path: Path, *, kind: str, key: BackupKey) -> None:
        self.path = Path(path)
        self.kind = kind
        self.key = key
        self.file_id = secrets.token_bytes(16)
        self._aead = _file_key(key, self.file_id, kind)
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip format
        self._pending = bytearray()
        self._frames = 0
        self._plain_bytes = 0
        if self.path.exists():
            raise BackupError(f"Le fichier {self.path} existe déjà : choisissez un autre nom.")
        if not self.path.parent.is_dir():
            raise BackupError(f"Le dossier {self.path.parent} n'existe pas.")
        fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=".frames-", suffix=".tmp")
        self._frames_path = Path(name)
        self._frames_file: BinaryIO = os.fdopen(fd, "w+b")

    def write(self, data: bytes) -> None:
        self._plain_bytes += len(data)
        self._pending += self._compressor.compress(data)
        while len(self._pending) > FRAME_BYTES:  # keep a remainder for the last frame
            self._emit(bytes(self._pending[:FRAME_BYTES]), last=False)
            del self._pending[:FRAME_BYTES]

    def _emit(self, chunk: bytes, *, last: bool) -> None:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, chunk, _frame_aad(self.kind, self._frames, last))
        self._frames_file.write(_LENGTH.pack(len(sealed)) + nonce + sealed)
        self._frames += 1

    def close(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Finish the stream and write the file; returns the header written."""
        self._pending += self._compressor.flush()
        while len(self._pending) > FRAME_BYTES:
            self._emit(bytes(self._pending[:FRAME_BYTES]), last=False)
            del self._pending[:FRAME_BYTES]
        self._emit(bytes(self._pending), last=True)
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "kind": self.kind,
            "file_id": self.file_id.hex(),
            "key_id": self.key.id,
            "frames": self._frames,
            **fields,
        }
        header_bytes = json.dumps(header, ensure_ascii=False, sort_keys=True).encode()
        nonce = os.urandom(NONCE_BYTES)
        tag = self._aead.encrypt(nonce, b"", _header_aad(header_bytes))
        fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=".backup-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC + _LENGTH.pack(len(header_bytes)) + header_bytes + nonce + tag)
                self._frames_file.seek(0)
                while block := self._frames_file.read(FRAME_BYTES):
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            if self.path.exists():
                raise BackupError(f"Le fichier {self.path} existe déjà : choisissez un autre nom.")
            os.replace(name, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
            raise
        finally:
            self.abort()
        return header

    def abort(self) -> None:
        """Remove the temporary frames (after a failure, or once the file is written)."""
        self._frames_file.close()
        with contextlib.suppress(FileNotFoundError):
            self._frames_path.unlink()


class BackupReader:
    """An opened backup file: its authenticated header, and its content on demand."""

    def __init__(self, path: Path, *, kind: str, ring: BackupKeyRing) -> None:
        self.path = Path(path)
        try:
            with self.path.open("rb") as stream:
                self.header, self._aead, self._frames_offset = self._read_header(stream, ring)
        except OSError as exc:
            raise BackupError(f"Lecture impossible de {self.path} : {os_error(exc)}.") from None
        if self.header.get("kind") != kind:
            raise BackupError(
                f"{self.path} est une "
                f"{_KINDS.get(str(self.header.get('kind')), 'sauvegarde inconnue')}"
                f", pas une {_KINDS[kind]} : les deux fichiers ont-ils été inversés ?"
            )
        self.kind = kind

    def _read_header(
        self, stream: BinaryIO, ring: BackupKeyRing
    ) -> tuple[dict[str, Any], AESGCM, int]:
        start = stream.read(len(MAGIC) + _LENGTH.size)
        if len(start) < len(MAGIC) + _LENGTH.size or start[: len(MAGIC)] != MAGIC:
            raise BackupError(f"{self.path} n'est pas un fichier de sauvegarde Mutualis.")
        (length,) = _LENGTH.unpack(start[len(MAGIC) :])
        if length > MAX_HEADER_BYTES:
            raise BackupError(f"{self.path} : en-tête de taille invalide, fichier altéré.")
        header_bytes = stream.read(length)
        nonce_tag = stream.read(NONCE_BYTES + TAG_BYTES)
        if len(header_bytes) < length or len(nonce_tag) < NONCE_BYTES + TAG_BYTES:
            raise BackupError(f"{self.path} est tronqué (en-tête incomplet).")
        try:
            header = json.loads(header_bytes)
            file_id = bytes.fromhex(header["file_id"])
            kind = str(header["kind"])
            key_id = str(header["key_id"])
            version = header["version"]
        except (ValueError, KeyError, TypeError):
            raise BackupError(f"En-tête de {self.path} illisible : fichier altéré.") from None
        if header.get("format") != FORMAT or version != FORMAT_VERSION:
            raise BackupError(
                f"{self.path} : format {header.get('format')!r} version {version!r} non pris en "
                f"charge (attendu : {FORMAT} version {FORMAT_VERSION})."
            )
        key = ring.by_id.get(key_id)
        if key is None:
            raise BackupError(
                f"{self.path} a été chiffré avec la clé de sauvegarde {key_id}, qui n'est pas "
                "configurée (MUTUALIS_BACKUP_KEY) : mauvaise clé."
            )
        aead = _file_key(key, file_id, kind)
        try:
            aead.decrypt(
                nonce_tag[:NONCE_BYTES], nonce_tag[NONCE_BYTES:], _header_aad(header_bytes)
            )
        except InvalidTag:
            raise BackupError(
                f"En-tête de {self.path} non authentique : fichier altéré ou mauvaise clé."
            ) from None
        return header, aead, len(MAGIC) + _LENGTH.size + length + NONCE_BYTES + TAG_BYTES

    def _frames(self) -> Iterator[bytes]:
        expected = self.header["frames"]
        with self.path.open("rb") as stream:
            stream.seek(self._frames_offset)
            for index in range(expected):
                start = stream.read(_LENGTH.size + NONCE_BYTES)
                if len(start) < _LENGTH.size + NONCE_BYTES:
                    raise BackupError(
                        f"{self.path} est tronqué : bloc n° {index + 1} sur {expected} manquant."
                    )
                (length,) = _LENGTH.unpack(start[: _LENGTH.size])
                if length > FRAME_BYTES + TAG_BYTES:
                    raise BackupError(f"{self.path} : bloc n° {index + 1} invalide (altéré).")
                sealed = stream.read(length)
                if len(sealed) < length:
                    raise BackupError(f"{self.path} est tronqué (bloc n° {index + 1} incomplet).")
                last = index == expected - 1
                try:
                    yield self._aead.decrypt(
                        start[_LENGTH.size :], sealed, _frame_aad(self.kind, index, last)
                    )
                except InvalidTag:
                    raise BackupError(
                        f"{self.path} : le bloc n° {index + 1} ne s'authentifie pas, fichier "
                        "altéré."
                    ) from None
            if stream.read(1):
                raise BackupError(f"{self.path} : données après le dernier bloc, fichier altéré.")

    def lines(self) -> Iterator[bytes]:
        """The decrypted, decompressed content, one line at a time (without the newline)."""
        decompressor = zlib.decompressobj(31)
        rest = b""
        try:
            for chunk in self._frames():
                rest += decompressor.decompress(chunk)
                *complete, rest = rest.split(b"\n")
                yield from complete
            rest += decompressor.flush()
        except zlib.error:
            raise BackupError(f"{self.path} : contenu compressé invalide.") from None
        if not decompressor.eof or decompressor.unused_data:
            raise BackupError(f"{self.path} : contenu compressé incomplet.")
        if rest:
            yield from rest.split(b"\n")
