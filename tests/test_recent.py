"""What the hot paths keep a few seconds (palabre.recent) lives in Django's cache `recent`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import caches

from palabre.recent import RecentReads


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def counter():
    calls = []

    def read():
        calls.append(1)
        return len(calls)

    return read


def test_a_read_is_kept_for_its_seconds_then_read_again(clock):
    reads, read = RecentReads("test-kept", seconds=2.0), counter()
    assert reads.get("k", read) == 1
    clock.shift(1.5)
    assert reads.get("k", read) == 1
    assert reads.get("other", read) == 2  # each key on its own
    clock.shift(1.0)
    assert reads.get("k", read) == 3


def test_a_missing_value_is_kept_only_when_asked(clock):
    looked = []

    def missing():
        looked.append(1)

    assert RecentReads("test-missing", seconds=5.0).get("k", missing) is None
    assert RecentReads("test-missing", seconds=5.0).get("k", missing) is None
    assert len(looked) == 2
    kept = RecentReads("test-kept-missing", seconds=5.0, keep_missing=True)
    assert kept.get("k", missing) is None and kept.get("k", missing) is None
    assert len(looked) == 3


def test_forget_applies_at_once(clock):
    reads, read = RecentReads("test-forget", seconds=60.0), counter()
    assert reads.get(7, read) == 1
    reads.forget(7)
    assert reads.get(7, read) == 2


def test_the_values_live_in_djangos_recent_cache_and_the_fixture_clears_it(clock, clear_caches):
    reads, read = RecentReads("test-cache", seconds=60.0), counter()
    assert reads.get("k", read) == 1
    assert caches["recent"].get("test-cache:k") == (1,)
    clear_caches("recent")
    assert reads.get("k", read) == 2
