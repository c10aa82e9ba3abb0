"""Mutualis settings: one file, configured by environment variables only.

See README.md ("Configuration") for every variable. Development gets safe generated defaults
under ``var/``; production (``DEBUG`` off) is refused by system checks when a secret is missing.
"""

from __future__ import annotations

import base64
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from mutualis.lib.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_secret,
    env_str,
    temporary_directory,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MUTUALIS_VAR_DIR", str(BASE_DIR / "var")))

TESTING = "pytest" in sys.modules or env_bool("MUTUALIS_TESTING")
DEBUG = env_bool("DEBUG", default=False)
# Development conveniences (generated secrets under var/) are allowed only with DEBUG on or
# while testing; a production process never writes its own keys.
DEV_DEFAULTS = DEBUG or TESTING


def _dev_secret(filename: str, *, nbytes: int = 32) -> str:
    """A random secret kept under var/ so that restarts keep reading the same data."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / filename
    if not path.exists():
        path.write_text(base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).decode() + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_secret("SECRET_KEY") or ""
if not SECRET_KEY and DEV_DEFAULTS:
    SECRET_KEY = _dev_secret("dev-secret-key", nbytes=48)
# Without a secret key the process still loads (so that `manage.py check` can say what is
# missing), with an unguessable throw-away key; the check web.E001 then refuses to run.
SECRET_KEY_MISSING = not SECRET_KEY
if SECRET_KEY_MISSING:
    SECRET_KEY = "missing-" + secrets.token_urlsafe(48)

# Master keys wrap the per-person data keys (mutualis.vault). The first key is the current one;
# the others are accepted for reading until `manage.py rotate_master_key` has re-wrapped
# everything under the first one.
MUTUALIS_MASTER_KEYS_RAW = env_secret("MUTUALIS_MASTER_KEY") or ""
if not MUTUALIS_MASTER_KEYS_RAW and DEV_DEFAULTS:
    MUTUALIS_MASTER_KEYS_RAW = _dev_secret("dev-master.key")
# The blind-index key (keyed HMAC for exact-match lookups) is separate from the master key.
MUTUALIS_BLIND_INDEX_KEY_RAW = env_secret("MUTUALIS_BLIND_INDEX_KEY") or ""
if not MUTUALIS_BLIND_INDEX_KEY_RAW and DEV_DEFAULTS:
    MUTUALIS_BLIND_INDEX_KEY_RAW = _dev_secret("dev-blind-index.key")
# Backup keys encrypt the files of `manage.py backup` and `backup_keys` (docs/backup.md). They are
# separate from the master keys, so that backups can be handled without the power to unwrap data
# keys. Comma-separated like the master keys: the first encrypts, all of them decrypt.
MUTUALIS_BACKUP_KEYS_RAW = env_secret("MUTUALIS_BACKUP_KEY") or ""
if not MUTUALIS_BACKUP_KEYS_RAW and DEV_DEFAULTS:
    MUTUALIS_BACKUP_KEYS_RAW = _dev_secret("dev-backup.key")
# Where the backups are kept: `manage.py prune_backups` deletes those past their retention and
# `privacy_check` (T1) checks that none is older.
MUTUALIS_BACKUP_DIR = env_str("MUTUALIS_BACKUP_DIR")

# The audit key signs every audit event when it is written (a keyed MAC, mutualis.audit.keys),
# so an event is tamper-evident before the sequencer places it in the hash chain. Separate from
# the vault's keys; comma-separated, the first signs, all of them verify.
MUTUALIS_AUDIT_KEYS_RAW = env_secret("MUTUALIS_AUDIT_KEY") or ""
if not MUTUALIS_AUDIT_KEYS_RAW and DEV_DEFAULTS:
    MUTUALIS_AUDIT_KEYS_RAW = _dev_secret("dev-audit.key")
# PostgreSQL: the audit INSERT is a statement prepared once per connection (parsed and planned
# once, not for every event). Off ("0") behind a connection pooler in transaction mode that does
# not keep prepared statements (PgBouncer before 1.21, or without max_prepared_statements).
MUTUALIS_AUDIT_PREPARED = env_bool("MUTUALIS_AUDIT_PREPARED", True)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEV_DEFAULTS else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "mutualis.privacy",
    "mutualis.vault",
    "mutualis.audit",
    "mutualis.members",
    "mutualis.contracts",
    "mutualis.billing",
    "mutualis.contact",
    "mutualis.consent",
    "mutualis.audience",
    "mutualis.rights",
    "mutualis.recipients",
    "mutualis.staff",
    "mutualis.breaches",
    "mutualis.portal",
    "mutualis.backoffice",
    "mutualis.partners",
    "mutualis.web",
]

AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out login before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:dashboard"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Errors under /api/ as RFC 9457 problem details (404, 405, refusals before the API).
    "mutualis.partners.middleware.ProblemDetailsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "mutualis.web.middleware.SecurityHeadersMiddleware",
    # French typography (non-breaking spaces before « ? ! : ; ») in every HTML page.
    "mutualis.web.middleware.FrenchTypographyMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mutualis.urls"
WSGI_APPLICATION = "mutualis.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "mutualis.web.context_processors.organisation",
                "mutualis.web.context_processors.audience",
            ],
            # French grammar in every template: {{ name|de }}, {{ count|pluriel }}.
            "builtins": ["mutualis.web.templatetags.french"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'mutualis.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})
    # WAL lets readers go on while a batch job writes, and makes each commit an append.
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# In development and tests, static files are served from the apps' folders (no collectstatic).
WHITENOISE_AUTOREFRESH = DEV_DEFAULTS
WHITENOISE_USE_FINDERS = DEV_DEFAULTS
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEV_DEFAULTS
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60)  # idle expiry, seconds
SESSION_SAVE_EVERY_REQUEST = True  # the idle clock restarts on each request
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Django's database sessions, measured when they expire (their duration goes to the security
# log) before `clearsessions` or the retention engine deletes them.
SESSION_ENGINE = "mutualis.members.sessions"
CSRF_COOKIE_HTTPONLY = True
# The CSRF cookie lives for the browsing session, as every cookie of the site but the audience
# measurement's (policy section II).
CSRF_COOKIE_AGE = None
CSRF_COOKIE_SAMESITE = "Lax"
# Flash messages ("Vos préférences sont enregistrées") are kept in the session, never in a cookie
# of their own: the session and CSRF cookies stay the only ones the member space and the back
# office set (policy section II; privacy_check T7 logs in and looks).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
_HTTPS = env_bool("MUTUALIS_HTTPS", default=not DEV_DEFAULTS)
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_SSL_REDIRECT = _HTTPS and env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _HTTPS
SECURE_HSTS_PRELOAD = _HTTPS
# Behind one reverse proxy: trust its X-Forwarded-Proto, and take the client address from the
# last hop it appends to X-Forwarded-For (rate limits of the public forms).
MUTUALIS_BEHIND_PROXY = env_bool("MUTUALIS_BEHIND_PROXY")
if MUTUALIS_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Strict Content-Security-Policy: no inline script or style, nothing from third parties.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# Login lockout (django-axes): after AXES_FAILURE_LIMIT failures for one account from one client
# address, that pair is locked for AXES_COOLOFF_MINUTES; an address is locked for every account
# after MUTUALIS_LOCKOUT_ADDRESS_LIMIT failures from it, all accounts together (the second rule,
# mutualis.members.lockout). Only failures are kept (no access log of successful logins).
import datetime  # noqa: E402

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # the pair locks
AXES_HANDLER = "mutualis.members.lockout.AccountAndAddressHandler"
MUTUALIS_LOCKOUT_ADDRESS_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 50)
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# axes stores, logs and locks on a keyed pseudonym of the client's address, never the address:
# the security log is the one place an address is kept (truncated network + keyed hash).
AXES_CLIENT_IP_CALLABLE = "mutualis.audit.security.axes_client_address"
# What axes keeps of the POST data and writes to its logs: masked (the password always is).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken", "token"]
# Django's login form sends the address as "username"; axes would look for "email" (the
# USERNAME_FIELD) and never lock by account. The callable reads it and normalises its case.
AXES_USERNAME_CALLABLE = "mutualis.portal.lockout.attempted_username"
# The page shown while locked out (French, no-store, without the address typed).
AXES_LOCKOUT_CALLABLE = "mutualis.portal.lockout.lockout_response"

# Staff second factor (django-otp TOTP).
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Mutualis")
# How long a re-authentication (password and code again) stays valid for revealing a NIR or an
# IBAN, exporting and administering staff accounts.
MUTUALIS_REAUTH_MINUTES = env_int("MUTUALIS_REAUTH_MINUTES", 5)

# --- Mail ---------------------------------------------------------------------------------
# In development every e-mail is a readable .eml file under var/mail/ (mutualis.lib.devmail).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "mutualis.lib.devmail.EmailBackend"
    if DEV_DEFAULTS
    else "django.core.mail.backends.smtp.EmailBackend",
)
MUTUALIS_DEV_MAIL_DIR = Path(env_str("MUTUALIS_DEV_MAIL_DIR", str(VAR_DIR / "mail")))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Mutuelle <ne-pas-repondre@mutuelle.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Absolute links in e-mails (activation, password reset).
MUTUALIS_SITE_URL = env_str("MUTUALIS_SITE_URL", "http://127.0.0.1:8000")
# Activation and password-reset links expire after this many seconds (single-use anyway).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 48 * 3600)

# --- Campaigns (communication service) ------------------------------------------------------
# `manage.py send_campaigns` sends at most MUTUALIS_CAMPAIGN_RATE messages per second (0: no
# limit) over one SMTP connection, claiming MUTUALIS_CAMPAIGN_BATCH rows of the send log at a
# time; a temporary failure is retried after MUTUALIS_CAMPAIGN_RETRY_SECONDS (doubling), up to
# MUTUALIS_CAMPAIGN_MAX_ATTEMPTS tries. A row claimed by a run that died is marked "uncertain"
# (never resent) once its claim is MUTUALIS_CAMPAIGN_CLAIM_MINUTES old.
MUTUALIS_CAMPAIGN_RATE = env_float("MUTUALIS_CAMPAIGN_RATE", 20.0)
MUTUALIS_CAMPAIGN_BATCH = env_int("MUTUALIS_CAMPAIGN_BATCH", 200)
MUTUALIS_CAMPAIGN_MAX_ATTEMPTS = env_int("MUTUALIS_CAMPAIGN_MAX_ATTEMPTS", 4)
MUTUALIS_CAMPAIGN_RETRY_SECONDS = env_int("MUTUALIS_CAMPAIGN_RETRY_SECONDS", 300)
MUTUALIS_CAMPAIGN_CLAIM_MINUTES = env_int("MUTUALIS_CAMPAIGN_CLAIM_MINUTES", 15)
MUTUALIS_CAMPAIGN_FROM_EMAIL = env_str("MUTUALIS_CAMPAIGN_FROM_EMAIL", DEFAULT_FROM_EMAIL)

# --- The organisation (shown on the public site, in the legal notice and the policy) -------
# Each value is the mutuelle's own in production, where a missing one stops the process (the
# legal notice is mandatory: LCEN art. 6-III; check web.E004). Development shows demo values.
_ORGANISATION = {
    "name": ("MUTUALIS_ORG_NAME", "Mutuelle des assurés sociaux"),
    "short_name": ("MUTUALIS_ORG_SHORT_NAME", "MAS"),
    "siren": ("MUTUALIS_ORG_SIREN", "329 678 205"),
    "address": ("MUTUALIS_ORG_ADDRESS", "87 rue La Boétie, 75008 Paris"),
    "dpo_email": ("MUTUALIS_DPO_EMAIL", "dpo@mutuelle.example"),
    "contact_email": ("MUTUALIS_CONTACT_EMAIL", "contact@mutuelle.example"),
    "host": (
        "MUTUALIS_HOST_NAME",
        "Hébergement Démo SAS, 12 rue des Serveurs, 59100 Roubaix — 03 20 00 00 00",
    ),
    "director": ("MUTUALIS_PUBLICATION_DIRECTOR", "Claire Moreau, présidente de la mutuelle"),
}
_MEDIATOR = {
    "name": ("MUTUALIS_MEDIATOR_NAME", "Médiateur de la mutualité (démonstration)"),
    "address": (
        "MUTUALIS_MEDIATOR_ADDRESS",
        "Service de la médiation, 10 rue de la Paix, 75002 Paris",
    ),
}


def _identity(values: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {
        key: env_str(var, demo if DEV_DEFAULTS else "").strip()
        for key, (var, demo) in values.items()
    }


MUTUALIS_ORGANISATION = _identity(_ORGANISATION)
# Where people report an accessibility problem (the accessibility statement's contact).
MUTUALIS_ORGANISATION["accessibility_email"] = env_str(
    "MUTUALIS_ACCESSIBILITY_EMAIL", MUTUALIS_ORGANISATION["contact_email"]
)
# The variables of the legal notice and of complaint answers left unset (production only).
MUTUALIS_LEGAL_NOTICE_MISSING = [
    var
    for values in (_ORGANISATION, _MEDIATOR)
    for key, (var, _demo) in values.items()
    if not DEV_DEFAULTS and not env_str(var).strip()
]

# --- Inquiries, complaints, inbound mail -----------------------------------------------------
# Service commitment for answering an inquiry, in working days (complaints follow ACPR rules).
MUTUALIS_INQUIRY_ANSWER_DAYS = env_int("MUTUALIS_INQUIRY_ANSWER_DAYS", 10)
# The mediator named in every complaint answer (ACPR 2022-R-01; C. consommation L612-1).
MUTUALIS_MEDIATOR = {**_identity(_MEDIATOR), "url": env_str("MUTUALIS_MEDIATOR_URL", "")}
# Uploads (contact form, scans of letters): size limits; types are checked by content.
MUTUALIS_UPLOAD_MAX_BYTES = env_int("MUTUALIS_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
MUTUALIS_MESSAGE_MAX_CHARS = env_int("MUTUALIS_MESSAGE_MAX_CHARS", 5000)
DATA_UPLOAD_MAX_MEMORY_SIZE = MUTUALIS_UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = MUTUALIS_UPLOAD_MAX_BYTES
# The public contact form: at most this many messages per client address and per e-mail address
# within the window (seconds). Counters live in the cache (CACHES below), keyed by a keyed hash.
MUTUALIS_CONTACT_RATE_LIMIT = env_int("MUTUALIS_CONTACT_RATE_LIMIT", 5)
MUTUALIS_CONTACT_RATE_WINDOW = env_int("MUTUALIS_CONTACT_RATE_WINDOW", 3600)
# The mailbox read by `manage.py fetch_mail` (IMAP over TLS by default).
MUTUALIS_IMAP = {
    "host": env_str("MUTUALIS_IMAP_HOST"),
    "port": env_int("MUTUALIS_IMAP_PORT", 993),
    "user": env_str("MUTUALIS_IMAP_USER"),
    "password": env_secret("MUTUALIS_IMAP_PASSWORD") or "",
    "mailbox": env_str("MUTUALIS_IMAP_MAILBOX", "INBOX"),
    "ssl": env_bool("MUTUALIS_IMAP_SSL", default=True),
}

# --- Cache ---------------------------------------------------------------------------------
# Holds only short-lived counters (rate limits of the public forms). "locmem": per process, for
# development and a single worker; "db": shared by every worker and host through the database
# (table created by `manage.py createcachetable`, no migration).
MUTUALIS_CACHE = env_str("MUTUALIS_CACHE", "locmem").strip().lower()
_CACHE_BACKENDS = {
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "mutualis"},
    "db": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "mutualis_cache"},
}
if MUTUALIS_CACHE not in _CACHE_BACKENDS:
    raise ImproperlyConfigured(
        f"MUTUALIS_CACHE must be one of {', '.join(_CACHE_BACKENDS)}, got {MUTUALIS_CACHE!r}."
    )
CACHES = {"default": _CACHE_BACKENDS[MUTUALIS_CACHE]}

# --- External recipients (API, mandatory-scheme exchange) -------------------------------------
# The rights-check API accepts at most this many requests per organisation within the window
# (seconds); an organisation may have its own limit. Counted in the database (all workers).
MUTUALIS_PARTNER_RATE_LIMIT = env_int("MUTUALIS_PARTNER_RATE_LIMIT", 120)
MUTUALIS_PARTNER_RATE_WINDOW = env_int("MUTUALIS_PARTNER_RATE_WINDOW", 60)
# Largest request body the API reads (bytes): a rights check is a few hundred bytes.
MUTUALIS_PARTNER_MAX_BODY = env_int("MUTUALIS_PARTNER_MAX_BODY", 4096)
# The mutuelle's number as a complementary health insurer (numéro d'organisme complémentaire),
# given to health professionals with each rights check and written in the exchange files.
MUTUALIS_AMC_NUMBER = env_str("MUTUALIS_AMC_NUMBER", "329678205")

# --- SEPA ----------------------------------------------------------------------------------
# The mutuelle's SEPA creditor identifier (ICS, EPC262-08), checked by stdnum.eu.at_02.
MUTUALIS_SEPA_CREDITOR_ID = env_str("MUTUALIS_SEPA_CREDITOR_ID", "FR72ZZZ123456")

# --- Logging: structured (one JSON object per line) and free of personal data ---------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "mutualis.lib.logging.RedactPersonalDataFilter"}},
    "formatters": {"json": {"()": "mutualis.lib.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
if TESTING:
    LOGGING["root"]["level"] = "WARNING"

# --- Premiums and direct debits (docs/billing.md) --------------------------------------------
# Day of the covered month on which its premium falls due (1 to 28).
MUTUALIS_PREMIUM_DUE_DAY = env_int("MUTUALIS_PREMIUM_DUE_DAY", 5)
# The mutuelle's account debits are collected to, and its bank's BIC (pain.008 creditor).
MUTUALIS_SEPA_CREDITOR_IBAN = env_str("MUTUALIS_SEPA_CREDITOR_IBAN", "FR7630006000011234567890189")
MUTUALIS_SEPA_CREDITOR_BIC = env_str("MUTUALIS_SEPA_CREDITOR_BIC", "AGRIFRPPXXX")
# Where sepa_batch writes its pain.008 files (mode 0600); the test suite writes into a
# directory of its own, removed when the process that made it ends (made only when none is set).
MUTUALIS_SEPA_OUT_DIR = env_str("MUTUALIS_SEPA_OUT_DIR") or (
    temporary_directory("mutualis-sepa-") if TESTING else str(VAR_DIR / "sepa")
)
# Fee charged to the member for a rejected debit when the bank's file carries none ("0": none).
MUTUALIS_SEPA_REJECTION_FEE = env_str("MUTUALIS_SEPA_REJECTION_FEE", "0")
# Debits built or booked per transaction by sepa_batch (each chunk commits with its audit event).
MUTUALIS_SEPA_CHUNK = env_int("MUTUALIS_SEPA_CHUNK", 2000)
# Permissions of the pain.008 files written (octal): they hold names and IBANs.
MUTUALIS_SEPA_FILE_MODE = int(env_str("MUTUALIS_SEPA_FILE_MODE", "600"), 8)
# Days between a debit's pre-notification and the debit (SEPA rulebook: 14 unless the mandate
# agrees on fewer).
MUTUALIS_SEPA_PRENOTIFICATION_DAYS = env_int("MUTUALIS_SEPA_PRENOTIFICATION_DAYS", 14)
# `sepa_batch --next` builds the batch of a collection date at most this many days ahead.
MUTUALIS_SEPA_SUBMIT_DAYS = env_int("MUTUALIS_SEPA_SUBMIT_DAYS", 5)
# A mandate lapses after this many months without a collection (SEPA rulebook: 36).
MUTUALIS_MANDATE_LAPSE_MONTHS = env_int("MUTUALIS_MANDATE_LAPSE_MONTHS", 36)
# From this day of the year (MM-DD), next year's schedule is built and announced (new rates
# apply on 1 January: members are told of the new amounts before then).
MUTUALIS_SCHEDULE_NEXT_YEAR_FROM = env_str("MUTUALIS_SCHEDULE_NEXT_YEAR_FROM", "11-01")
# Unpaid premiums (C. mutualité L221-7): send the formal notice as soon as the law allows it
# (10 days after the due date) without waiting for the cotisations service.
MUTUALIS_DUNNING_AUTOMATIC_NOTICE = env_bool("MUTUALIS_DUNNING_AUTOMATIC_NOTICE", True)
