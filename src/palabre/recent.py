"""Values read from the database on hot paths, kept a few seconds in Django's cache `recent`.

`recent` is this process's memory (locmem) by default and Redis, shared by every process and
machine, when `PALABRE_REDIS_URL` is set (settings.CACHES). A change calls `forget` and applies at
once where the cache is shared, in the process that made it otherwise; elsewhere it applies once
the delay has passed. For what the compatible APIs read on every request. Tests start with the
caches empty (tests/conftest.py) and empty them with the `clear_caches` fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from django.core.cache import caches

ALIAS = "recent"


class RecentReads:
    def __init__(self, name: str, seconds: float, *, keep_missing: bool = False):
        self.name = name  # the keys' prefix inside the cache: one name per kind of value
        self.seconds = seconds
        self.keep_missing = keep_missing  # also keep None, so a missing row is not looked up again

    def _key(self, key: Hashable) -> str:
        return f"{self.name}:{key}"

    def get(self, key: Hashable, read: Callable[[], Any]) -> Any:
        cache = caches[ALIAS]
        kept = cache.get(self._key(key))
        if kept is not None:  # kept as a 1-tuple: a kept None is told from nothing kept
            return kept[0]
        value = read()
        if value is not None or self.keep_missing:
            cache.set(self._key(key), (value,), timeout=self.seconds)
        return value

    def forget(self, key: Hashable) -> None:
        caches[ALIAS].delete(self._key(key))
