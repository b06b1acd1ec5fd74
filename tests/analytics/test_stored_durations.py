"""Care reads the business durations the inbox stores on each thread's row (PostgreSQL) only
where they are the calendar's own values: counted with the organisation's current hours, for a
moment inside the period's calendar. The figures are the same as when every moment is placed in
the calendar at the request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from palabre.analytics import metrics
from palabre.analytics.metrics import Filters
from palabre.inbox.models import Conversation

pytestmark = pytest.mark.django_db


def care(week, period, now):
    return metrics.care(week["org"], period, Filters(), now=now)


def counted_afresh(week, period, now):
    """The figures with no stored duration usable: every row's calendar looks like another one."""
    Conversation.objects.update(hours_key=None)
    try:
        return care(week, period, now)
    finally:
        for row in Conversation.objects.all():
            row.save()  # counted again (the inbox's upkeep on save)


def test_stored_and_counted_durations_give_the_same_figures(week, period, after_the_week):
    assert not Conversation.objects.filter(hours_key__isnull=True).exists()
    stored = care(week, period, after_the_week)
    assert stored == counted_afresh(week, period, after_the_week)
    assert (stored["first_response_business_median"], stored["resolution_business_p90"]) == (30.0, 600.0)


def test_an_answer_after_the_calendars_horizon_counts_as_given_then(week, period, after_the_week):
    # c4 answered 40 days after it was asked: the report's calendar ends 31 days after the period,
    # so its business time stops there, whatever the row stores (the whole 40 days' time).
    row = Conversation.objects.get(root=week["items"]["c4"])
    row.first_responded_at = row.began_at + timedelta(days=40)
    row.save()
    full = row.business_to_first_response
    stored = care(week, period, after_the_week)
    assert stored == counted_afresh(week, period, after_the_week)
    # Sorted 0, 30, 120 and c4's clipped time: the p90 is c4's, below what the row stores.
    assert stored["first_response_business_p90"] < round(full / 60, 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite counts business time at each report")
def test_postgresql_reads_the_stored_durations_of_the_current_calendar(week, period, after_the_week):
    # c1's stored first response (30 business minutes) made 5 minutes: read while its calendar is
    # the organisation's, ignored once it is not.
    rows = Conversation.objects.filter(root=week["items"]["c1"])
    rows.update(business_to_first_response=300.0)
    assert care(week, period, after_the_week)["first_response_business_median"] == 5.0
    rows.update(hours_key=1)
    assert care(week, period, after_the_week)["first_response_business_median"] == 30.0
