"""PostgreSQL's `grouped_figures` (one statement: the rows gathered per combination of the keys;
the combinations added up per group, each group's percentiles picked from its combinations'
arrays) gives the figures of `percentiles` (one window query per value and group,
what SQLite runs) and of plain counts, group by group, on the week's threads: a thread counted in
no group or in two, a group's combinations missed or its values sorted apart would show."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count, F, Q

from palabre.analytics.metrics.sql import EpochSeconds, grouped_figures, percentiles
from palabre.inbox.models import Conversation

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs `percentiles` itself"),
]


def test_grouped_figures_are_each_groups_percentiles_and_counts(week):
    rows = Conversation.objects.for_org(week["org"])
    # Threads with and without a value, in several channels, members (some unassigned) and intents.
    assert rows.filter(business_to_first_response__isnull=False).count() >= 3
    assert rows.filter(business_to_first_response__isnull=True).exists()
    assert rows.filter(assignee__isnull=True).exists() and rows.filter(assignee__isnull=False).exists()
    assert not rows.filter(began_at__isnull=True).exists()
    assert rows.values("channel_id").distinct().count() >= 2
    values = {
        # A value every thread holds, the unassigned ones (a NULL key) too.
        "began": (Q(began_at__isnull=False), EpochSeconds(F("began_at"))),
        "first": (Q(first_responded_at__isnull=False), F("business_to_first_response")),
        # A value no thread of some groups holds: those groups have no percentiles.
        "changed": (Q(status_changed_at__isnull=False), F("business_to_status_change")),
    }
    groups = [None, "channel_id", "assignee_id", "intent"]
    labels = {"channel_id": "channel__name", "assignee_id": "assignee__username"}
    counts = {"conversations": Q(), "answered": Q(first_responded_at__isnull=False)}
    totals = {"questions": Q(intent="question")}

    found = grouped_figures(rows, values, groups, counts=counts, totals=totals, labels=labels)

    for name, (condition, value) in values.items():
        for group in groups:
            assert found.percentiles[name][group] == percentiles(rows.filter(condition), value, group)
    for group in groups[1:]:
        fields = [group] + ([labels[group]] if group in labels else [])
        expected = [
            {"key": row[group], "label": row[fields[-1]], **{name: row[name] for name in counts}}
            for row in rows.values(*fields)
            .annotate(**{name: Count("pk", filter=condition) for name, condition in counts.items()})
            .order_by(*fields)
        ]
        assert found.counts[group] == expected
    assert found.totals == rows.aggregate(
        **{name: Count("pk", filter=condition) for name, condition in {**counts, **totals}.items()}
    )


def test_percentiles_picked_among_many_combinations_with_ties(org, make_channel, make_member):
    """Hundreds of threads over three channels, three members (and none) and three intents: each
    group's values spread over many combinations, repeated values (ties at the ranks picked),
    negative ones and threads without a value. Every group's median and p90 are those of
    `percentiles`, its counts the rows'."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from palabre.conversations.models import Item, ItemKind

    paris = ZoneInfo("Europe/Paris")
    channels = [make_channel(org, "site", handle=f"c{n}.example", name=f"C{n}") for n in range(3)]
    members = [None, *(make_member(org, "analyst").user for _ in range(3))]
    intents = ["", "question", "complaint"]
    asked = datetime(2026, 6, 8, 10, 0, tzinfo=paris)
    roots = Item.objects.bulk_create(
        Item(
            organisation=org,
            channel=channels[n % 3],
            external_id=f"t{n}",
            kind=ItemKind.COMMENT,
            text="Une question ?",
            created_at=asked,
            received_at=asked,
            updated_at=asked,
        )
        for n in range(420)
    )
    Conversation.objects.bulk_create(
        Conversation(
            organisation=org,
            root=root,
            channel=root.channel,
            assignee=members[(n // 3) % 4],
            intent=intents[(n // 12) % 3],
            last_activity_at=asked,
            began_at=asked,
            # Few distinct values (ties), some negative, one thread in seven without any.
            business_to_first_response=None if n % 7 == 0 else float((n * 37) % 23 - 4) * 60.0,
            business_to_status_change=float((n * 11) % 97) + 0.25,
        )
        for n, root in enumerate(roots)
    )
    rows = Conversation.objects.for_org(org)
    values = {
        "first": (Q(business_to_first_response__isnull=False), F("business_to_first_response")),
        "changed": (Q(business_to_status_change__isnull=False), F("business_to_status_change")),
    }
    groups = [None, "channel_id", "assignee_id", "intent"]
    labels = {"channel_id": "channel__name", "assignee_id": "assignee__username"}
    counts = {"conversations": Q(), "answered": Q(business_to_first_response__isnull=False)}

    found = grouped_figures(rows, values, groups, counts=counts, totals={}, labels=labels)

    for name, (condition, value) in values.items():
        for group in groups:
            expected = percentiles(rows.filter(condition), value, group)
            assert found.percentiles[name][group] == expected
            assert len(expected) == {None: 1, "channel_id": 3, "assignee_id": 4, "intent": 3}[group]
    assert found.totals == {"conversations": 420, "answered": 360}
    # Intents in runs of 12 threads: 35 runs, 12 for "" and "question", 11 for "complaint".
    assert [(row["key"], row["conversations"]) for row in found.counts["intent"]] == [
        ("", 144),
        ("complaint", 132),
        ("question", 144),
    ]
