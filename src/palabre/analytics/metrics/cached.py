"""The finished figures of a period, kept a short while in Django's cache.

The dashboard, a reload, a second member, the HTML, PDF and CSV of the same filters and the API
ask for the same figures within minutes; computing them is the costly part of the page (tens of
aggregate queries over the period and the one before). They are kept `CACHE_SECONDS` under a key
made of the organisation, the period, the filters and the organisation's *data version*: a counter
that every save or deletion of what the figures read (items, inbox threads and replies,
moderation, mentions, alerts, business hours) moves on, so that a change made through Palabre's
models is seen at the next request. Writes that bypass the models' signals (bulk updates) are
seen when the entry expires, at most `CACHE_SECONDS` later; so is the passing of time (the
unanswered threads that go past the response target).

The cache is Django's `default` one: this process's memory, or Redis (PALABRE_REDIS_URL), shared
by every process and machine, when it is configured.
"""

from __future__ import annotations

from dataclasses import astuple
from datetime import datetime
from typing import Any

from django.core.cache import caches
from django.db.models.signals import post_delete, post_save

from palabre.analytics.metrics.sql import Filters, Period
from palabre.orgs.models import Organisation

CACHE_ALIAS = "default"
CACHE_SECONDS = 60
# Bump when the shape of the figures changes, so that an upgrade never reads an older entry.
SHAPE = 1


def _version_key(organisation_id: int) -> str:
    return f"analytics:data-version:{organisation_id}"


def data_version(organisation_id: int) -> int:
    return caches[CACHE_ALIAS].get_or_set(_version_key(organisation_id), 0, timeout=None)


def data_changed(organisation_id: int) -> None:
    """The organisation's figures may have changed: the cached ones are no longer read."""
    cache = caches[CACHE_ALIAS]
    key = _version_key(organisation_id)
    try:
        cache.incr(key)
    except ValueError:  # not there yet (or evicted): any new value differs from the keys in use
        cache.add(key, 1, timeout=None)


def report(
    organisation: Organisation,
    period: Period,
    filters: Filters | None,
    *,
    now: datetime,
) -> dict[str, Any]:
    """`metrics.report(...)`, or the same figures computed less than `CACHE_SECONDS` ago for the
    same organisation, period, filters and data version."""
    from palabre.analytics import metrics

    filters = filters or Filters()
    key = ":".join(
        str(part)
        for part in (
            "analytics:report",
            SHAPE,
            organisation.pk,
            data_version(organisation.pk),
            period.first.isoformat(),
            period.last.isoformat(),
            period.time_zone,
            *astuple(filters),
        )
    )
    cache = caches[CACHE_ALIAS]
    found = cache.get(key)
    if found is None:
        found = metrics.report(organisation, period, filters, now=now)
        cache.set(key, found, timeout=CACHE_SECONDS)
    return found


def _changed(sender, instance, **kwargs) -> None:
    organisation_id = getattr(instance, "organisation_id", None)
    if organisation_id is not None:
        data_changed(organisation_id)


def connect_signals() -> None:
    """Called once by the app's `ready()`: the models whose rows the figures read."""
    from palabre.conversations.models import Item
    from palabre.inbox.models import Conversation, InboxSettings, Reply
    from palabre.listening.models import CrisisAlert, CrisisMode, Mention, MentionMatch
    from palabre.moderation.models import ItemModeration, ModerationDecision

    for model in (
        Item,
        Conversation,
        Reply,
        InboxSettings,
        ItemModeration,
        ModerationDecision,
        Mention,
        MentionMatch,
        CrisisAlert,
        CrisisMode,
    ):
        for signal in (post_save, post_delete):
            signal.connect(_changed, sender=model, dispatch_uid=f"analytics-figures-{model._meta.label}")
