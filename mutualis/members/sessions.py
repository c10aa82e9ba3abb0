"""Login sessions as technical data (policy 1-D): their duration is measured, their logins,
refusals and lockouts written to the security log, and the rows go as soon as they expire.

- At login, the session remembers when it started and in which space (member space or back
  office); the login goes to the security log with the client's network and a keyed hash of its
  address (:func:`mutualis.audit.security.record_security_event`, the one place an address is
  kept).
- A session ends by logout (:func:`logged_out`) or by expiry. Either way its duration is written
  to the security log (``members:session:ended``): at logout from the login time to now; at
  expiry from the login time to the last request, to the minute: the expiry date less the idle
  time (``SESSION_COOKIE_AGE``).
- The idle clock restarts at each request (``SESSION_SAVE_EVERY_REQUEST``), but a request that
  changed nothing in the session writes its row only when the expiry stored is a minute or more
  behind the one it would write (:data:`EXPIRY_REFRESH`): a member reading page after page costs
  no write per page. The expiry stored is never later than the last request plus the idle time,
  so a session idle for ``SESSION_COOKIE_AGE`` is always over (at most a minute sooner).
- :class:`SessionStore` is Django's database store whose ``clear_expired`` — what
  ``manage.py clearsessions`` calls — measures the expired sessions before deleting them, and
  :func:`expire_sessions` does the same for the retention engine (the declaration of
  ``sessions.Session``), so neither path loses a duration.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from mutualis.audit.security import SecurityEvent, record_security_event
from mutualis.members.tags import SecurityKind

LOGIN_AT_KEY = "_mutualis_login_at"
SPACE_KEY = "_mutualis_space"
MEMBER_SPACE = "espace"
STAFF_SPACE = "gestion"
LOCKED_OUT = "locked_out"
_BATCH = 1000
# A session whose data did not change is written again (its expiry moved on) only when the expiry
# stored lags this much or more behind the one a write would store.
EXPIRY_REFRESH = datetime.timedelta(minutes=1)


def logged_in(request: HttpRequest, *, account, space: str) -> None:
    """Call once the account is logged in (after ``auth.login``, which renews the session)."""
    request.session[LOGIN_AT_KEY] = int(time.time())
    request.session[SPACE_KEY] = space
    record_security_event(
        SecurityKind.LOGIN_SUCCEEDED, request=request, actor=account, details={"space": space}
    )


def login_refused(request: HttpRequest, *, account=None, space: str, reason: str) -> None:
    """A refused login (wrong password or code, inactive account, lockout). ``account`` is the
    account the attempt was for when one matched: only its id is kept, never what was typed."""
    kind = SecurityKind.LOGIN_LOCKED if reason == LOCKED_OUT else SecurityKind.LOGIN_REFUSED
    record_security_event(
        kind, request=request, actor=account, details={"space": space, "reason": reason}
    )


def logged_out(request: HttpRequest, *, account) -> None:
    """Call before ``auth.logout`` (which empties the session)."""
    started = request.session.get(LOGIN_AT_KEY)
    if not isinstance(started, int):
        return
    _record_end(
        account=account,
        space=str(request.session.get(SPACE_KEY, "")),
        seconds=int(time.time()) - started,
        ended="logout",
    )


def _record_end(*, account: Any, space: str, seconds: int, ended: str) -> SecurityEvent:
    return record_security_event(
        SecurityKind.SESSION_ENDED,
        actor=account,
        details={"space": space, "duration_s": max(seconds, 0), "ended": ended},
    )


def _measure_and_delete(sessions) -> int:
    """Write the duration of each expired logged-in session, then delete the rows, together."""
    idle = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    store = SessionStore()
    rows = list(sessions.values_list("session_key", "session_data", "expire_date"))
    with transaction.atomic():
        for _key, data, expire_date in rows:
            decoded = store.decode(data)
            started = decoded.get(LOGIN_AT_KEY)
            user_id = decoded.get("_auth_user_id")
            if not isinstance(started, int) or user_id is None:
                continue  # an anonymous session (a form in progress): nothing to measure
            last_request = expire_date - idle
            _record_end(
                account=f"user:{user_id}",
                space=str(decoded.get(SPACE_KEY, "")),
                seconds=int(last_request.timestamp()) - started,
                ended="expired",
            )
        SessionStore.get_model_class().objects.filter(
            session_key__in=[key for key, _data, _expiry in rows]
        ).delete()
    return len(rows)


def expire_sessions(*, before: datetime.datetime, batch_size: int = _BATCH, dry_run: bool = False):
    """Retention handler of ``sessions.Session``: measure and delete the sessions expired
    before ``before``. Returns ``(rows, batches)``."""
    model = SessionStore.get_model_class()
    expired = model.objects.filter(expire_date__lt=before).order_by("expire_date")
    if dry_run:
        return expired.count(), 0
    rows = batches = 0
    while True:
        done = _measure_and_delete(expired[:batch_size])
        if not done:
            return rows, batches
        rows += done
        batches += 1


class SessionStore(DatabaseSessionStore):
    """Django's database session store (``SESSION_ENGINE = "mutualis.members.sessions"``),
    measuring sessions before ``clearsessions`` deletes them, and writing an unchanged session
    at most once per :data:`EXPIRY_REFRESH` (see the module's docstring)."""

    # The expiry of the row as read, while it is the row this store would write.
    _stored_expiry: datetime.datetime | None = None

    @classmethod
    def clear_expired(cls) -> None:
        expire_sessions(before=timezone.now())

    def _get_session_from_db(self):
        row = super()._get_session_from_db()
        self._stored_expiry = row.expire_date if row is not None else None
        return row

    async def _aget_session_from_db(self):
        row = await super()._aget_session_from_db()
        self._stored_expiry = row.expire_date if row is not None else None
        return row

    def _unchanged_and_fresh(self, must_create: bool) -> bool:
        """Whether a write would only move the expiry on by less than :data:`EXPIRY_REFRESH`."""
        if must_create or self.modified or self._stored_expiry is None:
            return False
        if self.session_key is None:
            return False
        return self.get_expiry_date() - self._stored_expiry < EXPIRY_REFRESH

    def save(self, must_create: bool = False) -> None:
        if self._unchanged_and_fresh(must_create):
            return
        super().save(must_create=must_create)
        self._stored_expiry = None

    async def asave(self, must_create: bool = False) -> None:
        if self._unchanged_and_fresh(must_create):
            return
        await super().asave(must_create=must_create)
        self._stored_expiry = None
