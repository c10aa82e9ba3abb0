"""Answer deadlines of inquiries and complaints, one helper per rule.

- Complaints (ACPR recommendation 2022-R-01): acknowledge within 10 working days of receipt
  unless answered within that time; answer within 2 months of receipt.
- Inquiries: the mutuelle's own service commitment (settings ``MUTUALIS_INQUIRY_ANSWER_DAYS``
  working days, 10 by default).
"""

from __future__ import annotations

import datetime

from django.conf import settings

from mutualis.lib.dates import add_months, add_working_days

COMPLAINT_ACK_WORKING_DAYS = 10
COMPLAINT_ANSWER_MONTHS = 2


def complaint_acknowledgement_due(received: datetime.date) -> datetime.date:
    return add_working_days(received, COMPLAINT_ACK_WORKING_DAYS)


def complaint_answer_due(received: datetime.date) -> datetime.date:
    return add_months(received, COMPLAINT_ANSWER_MONTHS)


def inquiry_answer_due(received: datetime.date) -> datetime.date:
    return add_working_days(received, settings.MUTUALIS_INQUIRY_ANSWER_DAYS)
