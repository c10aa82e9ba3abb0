"""Audit tags of the web app."""

from mutualis.audit.tags import Tag


class WebTag(Tag):
    CACHE_EXPIRE = "web:cache:expire"  # expired rate-limit entries deleted (retention)
