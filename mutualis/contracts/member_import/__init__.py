"""Bulk import of members from a legacy system (``manage.py import_members``).

- :mod:`~mutualis.contracts.member_import.csv_format`: the CSV format, read and parsed;
- :mod:`~mutualis.contracts.member_import.run`: the run (validation, batches, rejection report,
  audit), entry point :func:`~mutualis.contracts.member_import.run.import_members`;
- :mod:`~mutualis.contracts.member_import.rows`: the rows written as tuples, without model
  instances.

The format, for the people who produce the file: ``docs/import_members.md``.
"""
