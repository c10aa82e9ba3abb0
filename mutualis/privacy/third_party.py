"""Declaration of the third-party models that the project installs.

Django's sessions, django-axes' login attempts and django-otp's second-factor devices hold
personal data about the people who log in, though no app of the project defines them: they are
declared here, each with its category, purpose and retention, like the project's own models, and
the system check fails for any installed model left undeclared (a new third-party app included).
So is Django's database cache, which keeps the rate limits' counters (the web app maps its table
as an unmanaged model, ``web.CacheEntry``, for that purpose).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from mutualis.lib.french import plural
from mutualis.privacy import catalogue as c
from mutualis.privacy import promises
from mutualis.privacy.declaration import personal
from mutualis.privacy.registry import declare, declare_not_personal

# --- django.contrib: the content types, permissions and groups hold no personal data -------
declare_not_personal("contenttypes.ContentType")
declare_not_personal("auth.Permission")
declare_not_personal("auth.Group")


def _technical(purpose):
    return personal(c.TECHNICAL, [purpose], provided=False)


# --- Sessions: who is logged in, since when; the row goes once the session has expired ------
# The session store measures the session's duration before the row goes (security log).
declare(
    "sessions.Session",
    fields={
        "session_key": _technical(c.WEBSITE),
        "session_data": _technical(c.WEBSITE),
        "expire_date": _technical(c.WEBSITE),
    },
    purpose=c.WEBSITE,
    retention=c.RETENTION_SESSIONS,
    retention_anchor="expire_date",
    retention_handler="mutualis.members.sessions.expire_sessions",
)

# --- django-axes: failed logins, counted to lock an account ----------------------------------
# The address axes keeps is a keyed pseudonym of the real one (settings.AXES_CLIENT_IP_CALLABLE),
# never the address itself; the rows are technical logs, six months at most.
_ACCESS = {
    name: _technical(c.SECURITY_LOGGING)
    for name in ("user_agent", "ip_address", "username", "http_accept", "path_info", "attempt_time")
}
_AXES: dict[str, Any] = {
    "purpose": c.SECURITY_LOGGING,
    "retention": c.RETENTION_TECHNICAL_LOGS,
    "retention_anchor": "attempt_time",
}
declare(
    "axes.AccessAttempt",
    fields={
        **_ACCESS,
        "get_data": _technical(c.SECURITY_LOGGING),
        "post_data": _technical(c.SECURITY_LOGGING),
        "failures_since_start": _technical(c.SECURITY_LOGGING),
    },
    **_AXES,
)
declare(
    "axes.AccessAttemptExpiration",
    fields={"expires_at": _technical(c.SECURITY_LOGGING)},
    not_personal=["access_attempt"],  # goes with its attempt
)
# Successful logins are not kept by axes (AXES_DISABLE_ACCESS_LOG) nor failures beyond the
# attempts (AXES_ENABLE_ACCESS_FAILURE_LOG off): the tables exist, declared all the same.
declare(
    "axes.AccessLog",
    fields={
        **_ACCESS,
        "logout_time": _technical(c.SECURITY_LOGGING),
        "session_hash": _technical(c.SECURITY_LOGGING),
    },
    **_AXES,
)
declare(
    "axes.AccessFailureLog",
    fields={**_ACCESS, "locked_out": _technical(c.SECURITY_LOGGING)},
    **_AXES,
)

# --- django-otp: the staff's second factor -----------------------------------------------
# A device lives as long as its staff account; one begun and never confirmed goes after a week.
_ACCOUNT = personal(c.ACCOUNT, [c.WEBSITE], provided=False)
declare(
    "otp_totp.TOTPDevice",
    fields={
        "user": _ACCOUNT,
        "name": _ACCOUNT,
        "confirmed": _ACCOUNT,
        "key": _ACCOUNT,
        "created_at": _ACCOUNT,
        "last_used_at": _technical(c.WEBSITE),
        "throttling_failure_timestamp": _technical(c.WEBSITE),
        "throttling_failure_count": _technical(c.WEBSITE),
        "drift": _technical(c.WEBSITE),
        "last_t": _technical(c.WEBSITE),
    },
    not_personal=["step", "t0", "digits", "tolerance"],
    purpose=c.WEBSITE,
    retention=c.RETENTION_PENDING_DEVICE,
    retention_anchor="created_at",
    retention_scope={"confirmed": False},
)


# --- Django's database cache: the rate limits' counters -------------------------------------
# A keyed hash of a client's address or of an e-mail address, and the times of its recent
# attempts (mutualis.web.ratelimit); the table is Django's, mapped unmanaged by the web app. Each
# entry lives for its window; the retention engine deletes the expired ones (a table that does
# not exist, with the per-process memory cache, has nothing to delete).
declare(
    "web.CacheEntry",
    fields={
        "cache_key": _technical(c.WEBSITE),
        "value": _technical(c.WEBSITE),
        "expires": _technical(c.WEBSITE),
    },
    purpose=c.WEBSITE,
    retention=c.RETENTION_RATE_LIMITS,
    retention_anchor="expires",
    retention_handler="mutualis.web.ratelimit.expire_entries",
)


# --- privacy_check T10: no technical log past its rule, none past six months --------------------
# Beside the six-month logs (RETENTION_TECHNICAL_LOGS), the technical data whose own rule is
# shorter, checked against that rule: sessions (a day after their end) and the rate limits'
# cache (a day after the end of its window).
SHORT_LIVED_TECHNICAL_DATA = ("sessions.Session", "web.CacheEntry")


def technical_logs() -> list:
    """The declarations T10 checks, each against its own declared rule."""
    from mutualis.privacy import registry

    return [
        d
        for d in registry.all_declarations()
        if d.retention_rule is c.RETENTION_TECHNICAL_LOGS or d.model in SHORT_LIVED_TECHNICAL_DATA
    ]


@promises.register("T10", section="1-D", title="Aucun journal technique de plus de 6 mois")
def no_technical_log_past_six_months(now) -> promises.Finding:
    """Security log and login attempts (six months), sessions and the rate limits' cache (a day
    after their end): nothing older than its declared rule allows, counted from its anchor (a
    session from its expiry), and in any case nothing past six months."""
    from django.apps import apps
    from django.db import connection

    from mutualis.privacy.retention import Target, cutoff

    tables = set(connection.introspection.table_names())
    ceiling = cutoff(now, c.RETENTION_TECHNICAL_LOGS.active)
    checked, breaches = 0, []
    for declaration in technical_logs():
        model = apps.get_model(declaration.model)
        if model._meta.db_table not in tables:  # the memory cache: no table, nothing kept
            continue
        rule = declaration.retention_rule
        bound = max(cutoff(now, Target(declaration, model, rule).total), ceiling)
        anchor = declaration.retention_anchor
        checked += model._base_manager.count()
        count = model._base_manager.filter(**{f"{anchor}__lt": bound}).count()
        if count:
            breaches.append(
                f"{model._meta.label} : {count} enregistrement{plural(count)} au-delà de la "
                f"durée de conservation, {rule.active.label} à compter {rule.anchor.label} "
                f"(avant le {timezone.localtime(bound):%d/%m/%Y à %H:%M})"
            )
    return promises.Finding(checked=checked, breaches=breaches)
