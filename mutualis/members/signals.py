"""Signals of the members app, for the apps built on it (which it does not import)."""

from django.dispatch import Signal

# Sent inside the transaction that corrected a person's contact details (GDPR art. 16), with
# ``person`` and ``fields``, the names of the fields that changed.
contact_details_changed = Signal()
