"""Values read from the database on hot paths, kept in this process's memory for a few seconds.

A change made in the same process calls `forget` and applies at once; one made in another process
applies once the delay has passed. For what the compatible APIs read on every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any


class RecentReads:
    def __init__(self, seconds: float, *, keep_missing: bool = False, max_items: int = 0):
        self.seconds = seconds
        self.keep_missing = keep_missing  # also keep None, so a missing row is not looked up again
        self.max_items = max_items  # when keys come from outside (addresses): start again past this many
        self._kept: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable, read: Callable[[], Any]) -> Any:
        now = time.monotonic()
        kept = self._kept.get(key)
        if kept is not None and now - kept[0] < self.seconds:
            return kept[1]
        value = read()
        if value is None and not self.keep_missing:
            self._kept.pop(key, None)
        else:
            if self.max_items and len(self._kept) >= self.max_items and key not in self._kept:
                self._kept.clear()
            self._kept[key] = (now, value)
        return value

    def forget(self, key: Hashable) -> None:
        self._kept.pop(key, None)

    def clear(self) -> None:
        self._kept.clear()
