"""What the dashboard costs in queries, on the week of conftest.py (its figures are computed by hand
in test_metrics.py), and the short cache of its finished figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
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
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # Redis expires its keys by its own clock, which the test's clock does not move: the
        # entries must carry the delay, and are then let go as Redis would.
        client = cache._cache.get_client(write=True)
        entries = list(client.scan_iter(match=f"{cache.key_prefix}:*analytics:report:*"))
        assert entries and all(0 < client.ttl(entry) <= CACHE_SECONDS for entry in entries)
        client.delete(*entries)
    else:
        clock.shift(timedelta(seconds=CACHE_SECONDS + 1))
    assert answered() == 4  # ...until it expires


def test_nearest_rank_over_and_inside_the_groups(org, make_channel):
    """70 threads answered after 1, 2, ... 70 minutes: the median is the 35th value and the p90 the
    63rd (ceil(0.9 x 70)), on PostgreSQL (picked from the gathered values) as on SQLite (window
    ranks). By channel, 35 threads each: ranks 18 and 32 (ceil(31.5)), where an interpolating
    percentile would differ."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from palabre.analytics.metrics import Filters, Period
    from palabre.conversations.models import Item, ItemKind
    from palabre.inbox.models import Conversation

    paris = ZoneInfo("Europe/Paris")
    blog = make_channel(org, "site", handle="blog.example", name="Blog")
    shop = make_channel(org, "site", handle="shop.example", name="Shop")
    asked = datetime(2026, 6, 8, 10, 0, tzinfo=paris)
    roots = Item.objects.bulk_create(
        Item(
            organisation=org,
            channel=blog if n % 2 else shop,
            external_id=f"q{n}",
            kind=ItemKind.COMMENT,
            text="Une question ?",
            created_at=asked,
            received_at=asked,
            updated_at=asked,
        )
        for n in range(1, 71)
    )
    Conversation.objects.bulk_create(
        Conversation(
            organisation=org,
            root=root,
            channel=root.channel,
            last_activity_at=asked,
            began_at=asked,  # as the inbox writes it: the root's created_at
            first_responded_at=asked + timedelta(minutes=n),
        )
        for n, root in enumerate(roots, start=1)
    )
    care = metrics.care(
        org,
        Period(date(2026, 6, 8), date(2026, 6, 8), "Europe/Paris"),
        Filters(),
        now=asked + timedelta(days=2),
    )
    assert care["answered"] == 70
    assert (care["first_response_median"], care["first_response_p90"]) == (35.0, 63.0)
    by_channel = {row["label"]: row for row in care["by_channel"]}
    # the blog answered after 1, 3, ... 69 minutes: rank 18 is 35, rank ceil(31.5) = 32 is 63
    assert (by_channel["Blog"]["first_response_median"], by_channel["Blog"]["first_response_p90"]) == (
        35.0,
        63.0,
    )
    # the shop after 2, 4, ... 70 minutes: 36 and 64
    assert (by_channel["Shop"]["first_response_median"], by_channel["Shop"]["first_response_p90"]) == (
        36.0,
        64.0,
    )
