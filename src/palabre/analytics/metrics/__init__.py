"""The figures of the analytics dashboard and reports, computed by the database.

Every block is a handful of aggregate queries whose number does not depend on the row count;
Python only shapes their results. Definitions and formulas: docs/analytics.md.

Business time is counted in SQL against the organisation's calendar (inbox business hours): the
opening intervals of the period are listed once in Python (a bounded list, one per opening per
day) and turned into a flat `CASE` that maps a moment to the business seconds elapsed since the
first opening ("business ordinal"); the business duration of (start, end) is the difference of
their ordinals. Percentiles are nearest-rank (the value at rank ceil(p x n) in ascending order),
picked with window functions so that SQLite and PostgreSQL give the same figures.
"""

from datetime import datetime
from typing import Any

from palabre.analytics.metrics.community import health, listening
from palabre.analytics.metrics.conversation import care, quality
from palabre.analytics.metrics.sql import (
    BUSINESS_HORIZON,
    MEDIAN,
    P90,
    Calendar,
    EpochSeconds,
    Filters,
    Period,
    percentiles,
    read_figures,
)
from palabre.analytics.metrics.team import team
from palabre.inbox.models import InboxSettings
from palabre.inbox.services import settings_for
from palabre.orgs.models import Organisation

__all__ = [
    "BUSINESS_HORIZON",
    "MEDIAN",
    "P90",
    "Calendar",
    "EpochSeconds",
    "Filters",
    "Period",
    "care",
    "figures",
    "health",
    "listening",
    "percentiles",
    "quality",
    "report",
    "team",
]


def figures(
    organisation: Organisation,
    period: Period,
    filters: Filters | None = None,
    *,
    now: datetime,
    inbox_settings: InboxSettings | None = None,
) -> dict[str, Any]:
    """Every block for one period (the inbox settings, business hours and response target, read
    once when the caller has them)."""
    filters = filters or Filters()
    inbox_settings = inbox_settings or settings_for(organisation)
    return {
        "care": care(organisation, period, filters, now=now, inbox_settings=inbox_settings),
        "quality": quality(organisation, period, filters),
        "health": health(organisation, period, filters),
        "listening": listening(organisation, period),
        "team": team(organisation, period, filters, inbox_settings=inbox_settings),
    }


def report(
    organisation: Organisation, period: Period, filters: Filters | None = None, *, now: datetime
) -> dict[str, Any]:
    """The period's figures and the previous period's, for comparison."""
    previous = period.previous()
    with read_figures():
        inbox_settings = settings_for(organisation)
        current, before = (
            figures(organisation, period, filters, now=now, inbox_settings=inbox_settings),
            figures(organisation, previous, filters, now=now, inbox_settings=inbox_settings),
        )
    return {
        "organisation": organisation.slug,
        "period": {"from": period.first, "to": period.last, "time_zone": period.time_zone},
        "previous_period": {"from": previous.first, "to": previous.last},
        "current": current,
        "previous": before,
    }
