"""Privacy declaration of the vault: keys and the erasure journal hold no personal data.

A data key is random bytes; a journal entry is a key id and a time.
"""

from mutualis.privacy.registry import declare_not_personal

declare_not_personal("vault.DataKey")
declare_not_personal("vault.ShredRecord")
