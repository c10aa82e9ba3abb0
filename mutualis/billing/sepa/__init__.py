"""SEPA direct debits (SDD Core): the batch of a collection date, its pain.008 file, its release.

``run`` (``manage.py sepa_batch``) builds the debits of a date (:mod:`.build`), writes and
validates the file (:mod:`.document`) and releases it (:mod:`.release`); docs/billing.md.
"""
