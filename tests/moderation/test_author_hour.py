"""The per-hour limit in the pipeline's moderation stage: an author's messages of the hour are
read only where the organisation's policy sets a limit (reading them costs more as the author's
hour fills up), and counted as before where it does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from palabre.conversations.pipeline import analyse_items, ingest_items
from palabre.moderation.models import ItemModeration, ModerationPolicy
from palabre.moderation.services import policy_for

pytestmark = pytest.mark.django_db

TEXT = "Merci pour la recette, la tarte était délicieuse et toute la famille a aimé"


def _moderated(channel, incoming_item, numbers, start):
    items = [
        item
        for item, _created in ingest_items(
            channel=channel,
            incoming=[
                incoming_item(
                    f"h{n}", text=f"{TEXT} ({n})", author="camille", created_at=start + timedelta(minutes=n)
                )
                for n in numbers
            ],
            analyse=False,
        ).items
    ]
    analyse_items([item.pk for item in items], [item.pk for item in items])
    return {
        state.item_id: [reason["code"] for reason in state.last_decision.reasons]
        for state in ItemModeration.objects.select_related("last_decision").filter(item__in=items)
    }


def test_an_authors_hour_is_counted_only_with_a_per_hour_limit(channel, incoming_item):
    start = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
    assert policy_for(channel.organisation).rate_limit_per_hour == 0
    first = _moderated(channel, incoming_item, range(3), start)
    assert not any("rate_limited" in codes for codes in first.values())

    ModerationPolicy.objects.filter(organisation=channel.organisation).update(rate_limit_per_hour=3)
    (later,) = _moderated(channel, incoming_item, [3], start).values()
    assert "rate_limited" in later  # three messages in the hour before it: the limit holds


def test_an_items_context_counts_its_authors_hour_only_with_a_per_hour_limit(channel, incoming_item):
    """`context_for_item` (a widget's comment decided at once, a rule's preview over 5,000 items):
    one count of the author's hour per item, made only where the policy's limit reads it."""
    from palabre.moderation.services import context_for_item, organisation_context

    start = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
    _moderated(channel, incoming_item, range(3), start)
    (last,) = [
        item
        for item, _created in ingest_items(
            channel=channel,
            incoming=[
                incoming_item("h9", text=TEXT, author="camille", created_at=start + timedelta(minutes=9))
            ],
            analyse=False,
        ).items
    ]
    organisation = channel.organisation
    off = context_for_item(last, organisation_context(organisation))
    assert off.author.recent_count == 0 and off.author.handle == "camille"
    ModerationPolicy.objects.filter(organisation=organisation).update(rate_limit_per_hour=3)
    on = context_for_item(last, organisation_context(organisation))
    assert on.author.recent_count == 3
