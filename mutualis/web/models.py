"""The web app's one table: Django's database cache, mapped so that it is declared.

With ``MUTUALIS_CACHE=db`` (several workers or hosts), the rate limits of the public forms and of
the audience endpoint keep their counters in the table ``mutualis_cache`` that Django's
``DatabaseCache`` uses (``manage.py createcachetable``): a keyed hash of a client's address or of
an e-mail address (:mod:`mutualis.web.ratelimit`), with the times of its recent attempts. That is
personal data (a pseudonym), so the table is mapped here — unmanaged: Django's cache creates and
writes it, no migration touches it — for the declaration (``privacy/third_party.py``), the system
check that refuses an undeclared model, and the retention engine, which deletes the expired
entries (:func:`mutualis.web.ratelimit.expire_entries`).
"""

from __future__ import annotations

from django.db import models

CACHE_TABLE = "mutualis_cache"


class CacheEntry(models.Model):
    """One entry of Django's database cache (its own columns, as ``createcachetable`` makes
    them)."""

    cache_key = models.CharField("clé", max_length=255, primary_key=True)
    value = models.TextField("valeur")
    expires = models.DateTimeField("expire le", db_index=True)

    class Meta:
        managed = False
        db_table = CACHE_TABLE
        verbose_name = "entrée du cache (limitation du nombre d'envois)"
        verbose_name_plural = "cache (limitation du nombre d'envois)"

    def __str__(self) -> str:
        return self.cache_key
