"""Errors raised by the vault.

Every failure to read encrypted data is explicit: the vault never returns wrong or partial data.
A shredded key is not an error for readers (fields read as :data:`mutualis.vault.erased.ERASED`);
:class:`KeyShreddedError` only reaches code that asks for the key material itself.
"""

from __future__ import annotations


class VaultError(Exception):
    """Base class of the vault's errors."""


class DecryptionError(VaultError):
    """A ciphertext failed authentication: altered, moved to another row or column, or sealed
    under another person's key."""


class KeyShreddedError(VaultError):
    """The data key was destroyed (crypto-shredding): nothing can be encrypted or decrypted with
    it any more."""


class UnknownMasterKeyError(VaultError):
    """A data key is wrapped by a master key that is not configured any more."""
