"""Signals the vault sends to the domain apps (the ground never imports them)."""

from django.dispatch import Signal

# Sent by a restore inside its transaction, once the erasure journal is replayed, with
# ``data_key_ids``: every destroyed data key of the journal. A person erased after the backup
# comes back from it with their ciphertexts unreadable, but also with their clear fields (name,
# address, e-mail…) and their records: receivers remove those the way the erasure did, and
# return how many people they removed. An exception rolls the whole restore back.
erasure_replayed = Signal()
