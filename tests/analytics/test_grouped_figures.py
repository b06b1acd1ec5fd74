"""PostgreSQL's `grouped_figures` (one statement: the rows gathered per combination of the keys,
the combinations added up over grouping sets, each group's percentiles read from its
combinations' arrays) gives the figures of `percentiles` (one window query per value and group,
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
