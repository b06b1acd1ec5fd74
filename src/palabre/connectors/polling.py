"""The door's one polling routine: a channel's pull (`sync.pull_channel`, on `ChannelSync`) and a
listening source's search (listening's `poll_source`, on `ListeningSource`) claim, back off and keep
their health here, the same way.

A polled row keeps its schedule and its health in columns of the same names on both models:
`next_poll_at`, `last_polled_at`, `last_success_at`, `last_error`, `last_error_code`,
`last_error_at` and `consecutive_failures`. A poll:

1. claims the row (`claim`): a conditional update moves its next poll to the end of a lease, so of
   two workers asking at once only the one whose update moved it polls, and a worker that dies
   mid-poll leaves the row to be taken again when the lease ends;
2. fetches through its connector (the caller's pull or search);
3. records a success (`record_success`) with the next poll time, in the transaction that stores
   what came, or a failure (`record_failure`): the error, the failures in a row (a rate limit is
   the platform's pace, not the row failing) and the next poll, when the platform said
   (Retry-After) or after a backoff that doubles with each failure (`retry_delay`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from django.db import models

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class PollFailure:
    """What went wrong in a poll, as the row keeps it."""

    message: str
    code: str
    retry_after: float | None = None  # seconds the platform asked to wait (Retry-After)
    counts: bool = True  # False for a rate limit: the platform's pace, not the row failing


def claim(rows: models.QuerySet, *, now: datetime, until: datetime, force: bool = False, **also) -> bool:
    """Take the poll of the one row in `rows` (filtered by its key) if it is due, holding it until
    `until`; `also`: columns set in the same update. `force`: due or not (a person's "fetch now")."""
    if not force:
        rows = rows.filter(models.Q(next_poll_at__isnull=True) | models.Q(next_poll_at__lte=now))
    return rows.update(next_poll_at=until, **also) == 1


def retry_delay(
    failures: int, *, first: float, cap: float, retry_after: float | None = None, jitter: float = 0.2
) -> float:
    """Seconds before polling again after `failures` failures in a row: what the platform asked for,
    else `first` doubled at each further failure, at most `cap`, give or take `jitter` (a share) so
    that rows failing together do not come back together."""
    if retry_after:
        return float(retry_after)
    delay = min(first * 2 ** min(max(failures - 1, 0), 32), cap)  # the power bounded: a float overflows
    return delay * random.uniform(1 - jitter, 1 + jitter)


def record_success(
    rows: models.QuerySet, *, now: datetime, next_poll_at: datetime | None = None, **also
) -> None:
    """The poll worked: failures in a row back to none; `also`: columns set in the same update."""
    fields = {"last_success_at": now, "consecutive_failures": 0, **also}
    if next_poll_at is not None:
        fields["next_poll_at"] = next_poll_at
    rows.update(**fields)


def record_failure(
    rows: models.QuerySet,
    failure: PollFailure,
    *,
    now: datetime,
    next_poll_at: datetime | None = None,
    **also,
) -> None:
    """The poll failed: the error kept with its time and code, one more failure in a row unless it
    does not count; `also`: columns set in the same update."""
    fields = {
        "last_error_at": now,
        "last_error": failure.message[:MAX_ERROR_CHARS],
        "last_error_code": failure.code,
        **also,
    }
    if failure.counts:
        fields["consecutive_failures"] = models.F("consecutive_failures") + 1
    if next_poll_at is not None:
        fields["next_poll_at"] = next_poll_at
    rows.update(**fields)
