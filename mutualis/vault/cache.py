"""A small in-process LRU of unwrapped data keys.

Rule: entries are keyed by (data key id, master key id, wrapped bytes). A shredded key has no
wrapped bytes, so no entry can ever match it; a re-wrapped key gets a new entry. Shredding also
drops the key's entries at once, so that its material does not linger in memory.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CacheKey = tuple[uuid.UUID, str, bytes]


class DataKeyCache:
    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[CacheKey, AESGCM] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> AESGCM | None:
        with self._lock:
            aead = self._entries.get(key)
            if aead is not None:
                self._entries.move_to_end(key)
            return aead

    def put(self, key: CacheKey, aead: AESGCM) -> None:
        with self._lock:
            self._entries[key] = aead
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def discard(self, data_key_id: uuid.UUID) -> None:
        with self._lock:
            for entry in [k for k in self._entries if k[0] == data_key_id]:
                del self._entries[entry]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


data_keys = DataKeyCache()
