"""Listening sources: creation, change, deletion, the own-channels source, and their polls scheduled
on commit."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.listening.models import (
    ListeningSource,
    SourceKind,
)
from palabre.listening.services.scope import _require_same_organisation
from palabre.orgs.models import Organisation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, record, snapshot

logger = logging.getLogger(__name__)

SOURCE_FIELDS = ("name", "kind", "config", "interval_minutes", "active")

# Each poll of an active source takes a worker every organisation shares (up to the HTTP timeout,
# 20 s, or a Jetstream read's 20 s): an organisation's sources together are polled at most this many
# times an hour (150 feeds every 15 minutes, or 10 every minute); paused ones do not count.
MAX_POLLS_PER_HOUR = 600


def _polls_per_hour(interval_minutes: int) -> float:
    return 60 / interval_minutes


def _refuse_polls_beyond_limit(actor: Actor, interval: int, source_pk: int | None = None) -> None:
    others = (
        ListeningSource.objects.visible_to(actor)
        .filter(active=True)
        .exclude(kind=SourceKind.OWN_CHANNELS)
        .exclude(pk=source_pk)
        .values_list("interval_minutes", flat=True)
    )
    asked = _polls_per_hour(interval) + sum(_polls_per_hour(minutes) for minutes in others)
    if asked > MAX_POLLS_PER_HOUR:
        raise ValidationError(
            {
                "interval_minutes": [
                    _(
                        "An organisation's sources are polled at most %(n)s times an hour, and each "
                        "poll takes a worker every organisation shares: with this one, yours would be "
                        "polled %(asked)s times. Poll less often, or pause another source."
                    )
                    % {"n": MAX_POLLS_PER_HOUR, "asked": round(asked)}
                ]
            }
        )


def _clean_source(name: str, kind: str, config: Any, interval_minutes: Any) -> tuple[str, str, dict, int]:
    from palabre.listening.sources import validate_config

    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("A source needs a name.")]
    elif len(name) > 120:
        errors["name"] = [_("A name has at most 120 characters.")]
    if kind not in SourceKind.values:
        errors["kind"] = [_("Unknown kind: %(kind)s") % {"kind": kind}]
    try:
        interval = int(interval_minutes)
        if not 1 <= interval <= 24 * 60:
            raise ValueError
    except (TypeError, ValueError):
        errors["interval_minutes"] = [_("Poll every 1 to 1440 minutes.")]
        interval = 0
    if not isinstance(config, dict):
        errors["config"] = [_("The settings must be an object.")]
    if errors:
        raise ValidationError(errors)
    return name, kind, validate_config(kind, config), interval


def create_source(
    *, actor: Actor, name: str, kind: str, config: dict | None = None, interval_minutes: int = 15
) -> ListeningSource:
    actor.require(Perm.LISTENING_MANAGE)
    name, kind, config, interval = _clean_source(name, kind, config or {}, interval_minutes)
    if ListeningSource.objects.visible_to(actor).filter(name=name).exists():
        raise ValidationError({"name": [_("Another source already has this name.")]})
    if kind != SourceKind.OWN_CHANNELS:
        _refuse_polls_beyond_limit(actor, interval)
    with transaction.atomic():
        source = ListeningSource.objects.create(
            organisation=actor.organisation, name=name, kind=kind, config=config, interval_minutes=interval
        )
        record(actor, "listening.source_created", source, after=snapshot(source, SOURCE_FIELDS))
        _schedule_poll(source)
    return source


def update_source(*, actor: Actor, source: ListeningSource, **changes: Any) -> ListeningSource:
    actor.require(Perm.LISTENING_MANAGE)
    _require_same_organisation(actor, source.organisation_id)
    unknown = set(changes) - set(SOURCE_FIELDS) - {"kind"}
    if unknown or ("kind" in changes and changes["kind"] != source.kind):
        raise ValidationError({"kind": [_("The kind of a source cannot change; create another one.")]})
    name, _kind, config, interval = _clean_source(
        changes.get("name", source.name),
        source.kind,
        changes.get("config", source.config),
        changes.get("interval_minutes", source.interval_minutes),
    )
    if ListeningSource.objects.visible_to(actor).filter(name=name).exclude(pk=source.pk).exists():
        raise ValidationError({"name": [_("Another source already has this name.")]})
    polled_more = not source.active or interval < source.interval_minutes
    if bool(changes.get("active", source.active)) and polled_more and source.kind != SourceKind.OWN_CHANNELS:
        _refuse_polls_beyond_limit(actor, interval, source.pk)
    before = snapshot(source, SOURCE_FIELDS)
    if config != source.config:
        source.cursor = {}  # another feed or search: start afresh (ingestion stays idempotent)
    source.name, source.config, source.interval_minutes = name, config, interval
    if "active" in changes:
        source.active = bool(changes["active"])
        if source.active:
            source.next_poll_at = _soonest_poll(source, timezone.now())
    with transaction.atomic():
        source.save()
        record(
            actor, "listening.source_updated", source, before=before, after=snapshot(source, SOURCE_FIELDS)
        )
        if source.active:
            _schedule_poll(source)
    return source


# A source is polled at most once a minute, however it is asked: "poll now" and switching it off
# and on again used to set the next poll to now, even while a poll held its lease, so a script
# could have one source fetched as often as it asked, beside the organisation's polls an hour.
MIN_POLL_GAP = timedelta(minutes=1)


def _soonest_poll(source: ListeningSource, now: datetime) -> datetime:
    if source.last_polled_at is None:
        return now
    return max(now, source.last_polled_at + MIN_POLL_GAP)


def request_poll(*, actor: Actor, source: ListeningSource) -> None:
    """Poll the source as soon as a worker is free (a Jetstream read may take its 20 seconds)."""
    actor.require(Perm.LISTENING_MANAGE)
    _require_same_organisation(actor, source.organisation_id)
    if not source.active or source.kind == SourceKind.OWN_CHANNELS:
        raise ValidationError({"source": [_("This source is paused.")]})
    now = timezone.now()
    source.refresh_from_db(fields=["last_polled_at"])
    soonest = _soonest_poll(source, now)
    if soonest > now:
        wait = int((soonest - now).total_seconds() + 0.999)
        raise ValidationError(
            {
                "source": [
                    _("This source was polled less than a minute ago: ask again in %(n)s seconds.")
                    % {"n": wait}
                ]
            }
        )
    ListeningSource.objects.filter(pk=source.pk).update(next_poll_at=now)
    source.refresh_from_db(fields=["next_poll_at"])
    _schedule_poll(source)


def delete_source(*, actor: Actor, source: ListeningSource) -> None:
    """Removes the source and its mentions (the audit log keeps who did it)."""
    actor.require(Perm.LISTENING_MANAGE)
    _require_same_organisation(actor, source.organisation_id)
    with transaction.atomic():
        record(actor, "listening.source_deleted", source, before=snapshot(source, SOURCE_FIELDS))
        source.delete()


def own_channels_source(organisation: Organisation) -> ListeningSource:
    """The organisation's own-channels source, created on first use (items arrive through analysis)."""
    source = ListeningSource.objects.for_org(organisation).filter(kind=SourceKind.OWN_CHANNELS).first()
    if source is None:
        try:
            with transaction.atomic():
                source = ListeningSource.objects.create(
                    organisation=organisation,
                    name=str(SourceKind.OWN_CHANNELS.label),
                    kind=SourceKind.OWN_CHANNELS,
                    interval_minutes=60,
                )
        except IntegrityError:
            source = ListeningSource.objects.for_org(organisation).filter(
                kind=SourceKind.OWN_CHANNELS
            ).first() or ListeningSource.objects.create(
                organisation=organisation,
                name=f"{SourceKind.OWN_CHANNELS.label} ({secrets.token_hex(2)})",
                kind=SourceKind.OWN_CHANNELS,
            )
    return source


def _schedule_poll(source: ListeningSource) -> None:
    if source.kind == SourceKind.OWN_CHANNELS or not source.active:
        return
    from palabre.listening.tasks import poll_source_task

    source_id, run_after = source.pk, source.next_poll_at
    transaction.on_commit(lambda: _enqueue_poll(poll_source_task, source_id, run_after))


def _enqueue_poll(task, source_id: int, run_after: datetime) -> None:
    if run_after > timezone.now():
        try:
            task.using(run_after=run_after).enqueue(source_id)
            return
        except Exception:  # a backend that cannot defer (immediate): poll when asked
            logger.debug("Deferred poll not supported; source %s waits for the next sweep", source_id)
            return
    task.enqueue(source_id)
