"""What the dashboard costs in queries, on the week of conftest.py (its figures are computed by hand
in test_metrics.py), and the short cache of its finished figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from palabre.analytics import metrics

pytestmark = pytest.mark.django_db
WEEK = {"from": "2026-06-08", "to": "2026-06-14"}


def test_the_care_figures_take_a_fixed_number_of_queries(
    week, period, after_the_week, django_assert_num_queries
):
    from palabre.analytics.metrics import Filters

    # PostgreSQL computes every count, median and p90 (first response and resolution, clock and
    # business time, overall and per channel, member and intent) in one query; SQLite in one per
    # measure and grouping, one per table's counts and one for the totals. Plus the settings.
    expected = 2 if connection.vendor == "postgresql" else 21
    with django_assert_num_queries(expected):
        care = metrics.care(week["org"], period, Filters(), now=after_the_week)
    assert care["answered"] == 3 and care["first_response_business_p90"] == 120.0


def _api(client, week):
    from palabre.orgs.permissions import Perm
    from palabre.orgs.services import Actor, create_api_token

    _token, raw = create_api_token(
        actor=Actor.palabre(week["org"]), name="reports", scopes=[Perm.ANALYTICS_VIEW.value]
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    return lambda: client.get("/api/analytics/report", WEEK, **auth).json()["current"]["care"]["answered"]


def test_the_dashboard_reads_its_figures_again_from_the_cache(client, week, django_assert_max_num_queries):
    from django.test.utils import CaptureQueriesContext

    client.force_login(week["alice"])
    with CaptureQueriesContext(connection) as first:
        assert client.get("/analytics/", WEEK).status_code == 200
    # both periods, every block, the filters' choices, the session: bounded, whatever the rows
    assert len(first.captured_queries) <= (50 if connection.vendor == "postgresql" else 90)
    with CaptureQueriesContext(connection) as again:
        assert client.get("/analytics/", WEEK).status_code == 200
    # the figures (two periods of five blocks, some forty aggregate queries) are not computed again
    assert len(again.captured_queries) <= len(first.captured_queries) - 30


def test_a_change_through_the_models_is_seen_at_once(client, week, after_the_week):
    from palabre.inbox.models import Conversation

    answered = _api(client, week)
    assert answered() == 3
    # Nina's question (c4) was never answered: an answer saved through the model counts at once
    thread = Conversation.objects.get(root=week["items"]["c4"])
    thread.first_responded_at = after_the_week - timedelta(days=7)
    thread.save()
    assert answered() == 4


def test_a_write_that_bypasses_the_models_is_seen_when_the_entry_expires(client, week, clock, after_the_week):
    from palabre.analytics.metrics.cached import CACHE_SECONDS
    from palabre.inbox.models import Conversation

    answered = _api(client, week)
    assert answered() == 3
    Conversation.objects.filter(root=week["items"]["c4"]).update(
        first_responded_at=after_the_week - timedelta(days=7)
    )
    assert answered() == 3  # a bulk update sends no signal: the cached figure stands...
    clock.shift(timedelta(seconds=CACHE_SECONDS + 1))
    assert answered() == 4  # ...until it expires
