"""The one polling routine (connectors/polling.py): channels' records and listening sources claim,
back off and keep their health through it, in columns of the same names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from palabre.connectors import polling
from palabre.connectors.models import ChannelSync
from palabre.connectors.services import sync_for
from palabre.listening.models import ListeningSource
from palabre.listening.services import create_source
from palabre.orgs.services import Actor

# The instant polls are asked at, passed to the routine (it never reads the clock itself).
NOW = datetime(2026, 3, 29, 0, 45, tzinfo=UTC)

HEALTH_COLUMNS = (
    "next_poll_at",
    "last_polled_at",
    "last_success_at",
    "last_error",
    "last_error_code",
    "last_error_at",
    "consecutive_failures",
)


@pytest.fixture(params=["channel", "source"])
def polled(request, org, make_channel):
    """The rows of one polled record (a channel's or a listening source's), due now."""
    if request.param == "channel":
        record = sync_for(make_channel(org, platform="rss", name="Blog"))
    else:
        record = create_source(
            actor=Actor.palabre(org),
            name="Presse",
            kind="rss",
            config={"url": "https://example.org/feed"},
            interval_minutes=15,
        )
    rows = type(record).objects.filter(pk=record.pk)
    rows.update(next_poll_at=NOW)
    return rows


def test_both_records_keep_schedule_and_health_in_the_same_columns():
    for model in (ChannelSync, ListeningSource):
        names = {field.name for field in model._meta.get_fields()}
        assert set(HEALTH_COLUMNS) <= names, model


def test_of_two_claims_at_once_only_one_polls_until_its_lease_ends(polled):
    now = NOW
    lease = now + timedelta(minutes=5)
    assert polling.claim(polled, now=now, until=lease)
    assert not polling.claim(polled, now=now, until=lease)  # the second worker
    assert not polling.claim(polled, now=now + timedelta(minutes=4), until=lease)
    # The first worker died mid-poll: once the lease ends, the row is taken again.
    assert polling.claim(polled, now=lease, until=lease + timedelta(minutes=5))
    # A person's "fetch now" takes it whatever the lease.
    assert polling.claim(polled, now=lease, until=lease + timedelta(minutes=10), force=True)
    assert polled.get().next_poll_at == lease + timedelta(minutes=10)


def test_failures_count_in_a_row_and_a_success_resets_them(polled):
    now = NOW
    failure = polling.PollFailure(message="HTTP 503 from example.org", code="http_error")
    polling.record_failure(polled, failure, now=now, next_poll_at=now + timedelta(minutes=30))
    polling.record_failure(polled, failure, now=now, next_poll_at=now + timedelta(minutes=60))
    row = polled.get()
    assert (row.consecutive_failures, row.last_error_code, row.last_error_at) == (2, "http_error", now)
    assert row.next_poll_at == now + timedelta(minutes=60)
    # A rate limit is the platform's pace: kept as the last error, not counted as a failure.
    limited = polling.PollFailure(message="429", code="rate_limited", retry_after=120, counts=False)
    polling.record_failure(polled, limited, now=now)
    assert polled.get().consecutive_failures == 2 and polled.get().last_error_code == "rate_limited"
    later = now + timedelta(hours=1)
    polling.record_success(polled, now=later, next_poll_at=later + timedelta(minutes=15))
    row = polled.get()
    assert (row.consecutive_failures, row.last_success_at) == (0, later)
    assert row.next_poll_at == later + timedelta(minutes=15)
    assert row.last_error_code == "rate_limited"  # the last error stays, with its time, as history


def test_the_error_kept_is_bounded(polled):
    polling.record_failure(polled, polling.PollFailure(message="x" * 10_000, code="malformed"), now=NOW)
    assert len(polled.get().last_error) == polling.MAX_ERROR_CHARS


def test_the_platforms_retry_after_wins_over_the_backoff():
    assert polling.retry_delay(3, first=30, cap=3600, retry_after=900) == 900


def test_the_backoff_doubles_within_its_jitter_and_stops_at_its_cap():
    for failures, plain in ((1, 30), (2, 60), (3, 120), (4, 240), (8, 3600), (10_000, 3600)):
        delay = polling.retry_delay(failures, first=30, cap=3600)
        assert 0.8 * plain <= delay <= 1.2 * plain, (failures, delay)
    assert polling.retry_delay(5, first=30, cap=3600, jitter=0) == 480
