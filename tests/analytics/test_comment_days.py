"""The kept comment counts (analytics.CommentDay, analytics migration 0002).

On PostgreSQL the items' triggers keep one row per UTC day, channel, author and contact equal to a
count of the items themselves, whatever writes them: an item ingested, its text edited, moved to
another contact or day, deleted, contacts merged. The comments' figures (conversation quality)
are the same read from those rows for a period's whole UTC days as read from the items alone, on
both databases (SQLite keeps no rows and reads the items)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from palabre.analytics.metrics.sql import CUSTOMER_KINDS, SUBSTANTIVE

pytestmark = pytest.mark.django_db


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


def _recount(organisation) -> dict[tuple, tuple[int, int]]:
    """The items' counts per (UTC day, channel, author, contact), counted here one item at a time."""
    from palabre.conversations.models import Item

    rows: dict[tuple, tuple[int, int]] = {}
    for item in Item.objects.filter(organisation=organisation, kind__in=CUSTOMER_KINDS):
        key = (item.created_at.astimezone(UTC).date(), item.channel_id, item.author_id, item.contact_id)
        comments, substantive = rows.get(key, (0, 0))
        rows[key] = (comments + 1, substantive + bool(re.search(SUBSTANTIVE, item.text)))
    return rows


def _kept(organisation) -> dict[tuple, tuple[int, int]]:
    from palabre.analytics.models import CommentDay

    return {
        (row.day, row.channel_id, row.author_id, row.contact_id): (row.comments, row.substantive)
        for row in CommentDay.objects.filter(organisation_id=organisation.pk)
    }


@pytest.mark.postgres
def test_the_counts_follow_every_write_of_the_items(org, owner_actor, make_channel, ingest, clock):
    from palabre.conversations.models import Item
    from palabre.conversations.services import merge_contacts

    blog = make_channel(org, handle="maison-blog")
    shop = make_channel(org, handle="maison-shop")
    ingest(
        blog, "p1", kind="post", author="maison-blog", text="Notre nouvelle collection", created_at=_at(8, 8)
    )
    first = ingest(
        blog, "c1", author="camille", parent="p1", text="Très belle collection", created_at=_at(8, 9)
    )
    short = ingest(blog, "c2", author="camille", parent="p1", text="👍", created_at=_at(8, 10))
    louis = ingest(shop, "c3", author="louis", text="Ma commande est en retard", created_at=_at(9, 23, 30))
    nina = ingest(shop, "c4", author="nina", text="Merci beaucoup", created_at=_at(9, 23, 45))
    answer = ingest(
        blog,
        "a1",
        kind="reply",
        author="maison-blog",
        parent="c1",
        text="Merci à vous",
        created_at=_at(8, 11),
    )
    assert _kept(org) == _recount(org)
    assert _kept(org)[(date(2026, 6, 8), blog.pk, first.author_id, first.contact_id)] == (2, 1)
    assert (date(2026, 6, 8), blog.pk, answer.author_id, answer.contact_id) in _kept(
        org
    )  # left out when read

    # The text edited (no longer substantive, then substantive), the same row.
    Item.objects.filter(pk=first.pk).update(text="Bof")
    assert _kept(org)[(date(2026, 6, 8), blog.pk, first.author_id, first.contact_id)] == (2, 0)
    short.text = "Vraiment très joli"
    short.save()
    assert _kept(org) == _recount(org)

    # Moved to another contact, then to another day: the old row drops, the new one counts it.
    louis.contact = nina.contact
    louis.save()
    assert _kept(org) == _recount(org)
    Item.objects.filter(pk=louis.pk).update(created_at=_at(10, 0, 30))
    assert _kept(org) == _recount(org)

    # Contacts merged: every item of the sources moves to the target.
    merge_contacts(actor=owner_actor, target=first.contact, sources=[nina.contact])
    assert _kept(org) == _recount(org)

    # Deleted, one and then all: no row is left at zero.
    Item.objects.filter(pk=answer.pk).delete()
    assert _kept(org) == _recount(org)
    Item.objects.filter(organisation=org).delete()
    assert _kept(org) == {}


@pytest.mark.parametrize("channel", [False, True])
def test_the_comments_figures_are_the_same_read_from_the_counts(
    org, make_channel, ingest, clock, monkeypatch, channel
):
    """A period of Paris days (22:00 UTC to 22:00 UTC in June): its whole UTC days from the kept
    counts, the two hours before the first and the 22 hours after the last from the items."""
    from palabre.analytics.metrics import Filters, Period, conversation, quality

    blog = make_channel(org, handle="maison-blog")
    shop = make_channel(org, handle="maison-shop")
    ingest(
        blog, "old", author="louis", text="Une question ancienne", created_at=_at(3, 12)
    )  # earlier: returning
    ingest(blog, "p1", kind="post", author="maison-blog", text="La collection", created_at=_at(7, 20))
    ingest(
        blog, "e1", author="camille", parent="p1", text="Très belle", created_at=_at(7, 22, 30)
    )  # first edge
    ingest(blog, "e2", author="louis", parent="p1", text="👍", created_at=_at(7, 23, 59))
    ingest(blog, "w1", author="camille", parent="p1", text="Encore bravo", created_at=_at(8, 0))  # whole days
    ingest(shop, "w2", author="nina", text="Où est ma commande ?", created_at=_at(10, 12))
    ingest(shop, "w3", author="nina", text="!!", created_at=_at(13, 23, 59))
    ingest(
        blog,
        "a1",
        kind="reply",
        author="maison-blog",
        parent="e1",
        text="Merci à vous",
        created_at=_at(10, 13),
    )
    ingest(shop, "l1", author="paul", text="Merci pour tout", created_at=_at(14, 21, 59))  # last edge
    ingest(shop, "out", author="zoe", text="Trop tard pour la semaine", created_at=_at(14, 22))  # after it
    period = Period(date(2026, 6, 8), date(2026, 6, 14), "Europe/Paris")
    assert conversation._whole_utc_days(period) == (date(2026, 6, 8), date(2026, 6, 14))
    filters = Filters(channel_id=shop.pk if channel else None)

    kept = quality(org, period, filters)
    monkeypatch.setattr(conversation, "_whole_utc_days", lambda period: None)
    from_items = quality(org, period, filters)
    assert kept == from_items
    if channel:
        assert (kept["comments"], kept["substantive"], kept["contributors"]) == (3, 2, 2)
    else:
        assert (kept["comments"], kept["substantive"], kept["contributors"]) == (6, 4, 4)
        assert kept["returning_contributors"] == 1  # Louis
        assert kept["top_contributors"][:2] == [{"name": "Camille", "items": 2}, {"name": "Nina", "items": 2}]


def test_the_whole_utc_days_of_a_period():
    from palabre.analytics.metrics import Period
    from palabre.analytics.metrics.conversation import _whole_utc_days

    assert _whole_utc_days(Period(date(2026, 6, 8), date(2026, 6, 8), "UTC")) == (
        date(2026, 6, 8),
        date(2026, 6, 9),
    )
    assert _whole_utc_days(Period(date(2026, 6, 8), date(2026, 6, 8), "Europe/Paris")) is None
    assert _whole_utc_days(Period(date(2026, 6, 8), date(2026, 6, 9), "Europe/Paris")) == (
        date(2026, 6, 8),
        date(2026, 6, 9),
    )
    assert _whole_utc_days(Period(date(2026, 1, 5), date(2026, 1, 11), "America/New_York")) == (
        date(2026, 1, 6),
        date(2026, 1, 12),
    )
