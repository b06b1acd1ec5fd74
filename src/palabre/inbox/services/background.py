"""Background work: open threads refreshed, SLA breaches warned, the overnight summary and the morning digest."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.mail import send_mail
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from palabre import bulk
from palabre.inbox.models import (
    Conversation,
    Intent,
    Notification,
    Status,
)
from palabre.inbox.priority import URGENT, WAITING_FULL_AFTER, waiting_points, with_wait
from palabre.inbox.services.reading import _repliers, business_hours
from palabre.inbox.services.threads import refresh_conversation, refresh_conversations
from palabre.orgs.models import Organisation

logger = logging.getLogger(__name__)


# Threads re-ranked a transaction at a time: one thread a transaction cost a dozen queries each,
# so the periodic tick of a site with 171,000 comments waiting held the only task worker 13
# minutes (comment storing stalled behind it, `palabre bench api --rate 500`).
REFRESH_BATCH = 200


def refresh_open(organisation: Organisation, *, now: datetime | None = None) -> int:
    """Re-rank the threads waiting for an answer whose priority rose with the wait since their row
    was computed; returns how many threads wait (each now ranked for its wait). A wait's points
    move at most 16 times, in its first 4 hours (`priority.waiting_points`), so a tick touches the
    threads that crossed a step since the last one, not every thread waiting: at 107,000 threads
    waiting, recomputing them all from their messages every 5 minutes took a minute of the only
    task worker's CPU.

    Only the waiting reason and the score change (`priority.with_wait`), under the rows' lock, the
    rest as the analyser computed it; rows written before `waiting_since` was kept are computed
    once from their messages (`refresh_conversations`)."""
    now = now or timezone.now()
    waiting = (
        Conversation.objects.for_org(organisation).filter(awaiting_reply=True).exclude(status=Status.CLOSED)
    )
    unknown = list(waiting.filter(waiting_since=None).order_by("root_id").values_list("root_id", flat=True))
    for batch in _batches(unknown):
        _recompute(organisation, batch)
    rising = waiting.filter(
        waiting_since__isnull=False, updated_at__lt=F("waiting_since") + WAITING_FULL_AFTER
    )
    moved = [
        pk
        for pk, since, computed in rising.order_by("pk").values_list("pk", "waiting_since", "updated_at")
        if waiting_points(_minutes(since, computed)) != waiting_points(_minutes(since, now))
    ]
    for batch in _batches(moved):
        with transaction.atomic():
            rows = (
                Conversation.objects.select_for_update()
                .filter(pk__in=batch, awaiting_reply=True, waiting_since__isnull=False)
                .order_by("pk")
                .values_list("pk", "priority_reasons", "manual_priority", "waiting_since")
            )
            ranked = []
            for pk, reasons, manual, since in rows:
                score, reasons = with_wait(reasons, _minutes(since, now))
                ranked.append((pk, score if manual is None else manual, reasons, now))
            # A few columns of many rows: their values written, no whole row read or written.
            bulk.update_values(Conversation, ["priority", "priority_reasons", "updated_at"], ranked)
    logger.debug("re-ranked %d threads, computed %d", len(moved), len(unknown))
    return waiting.count()


def _batches(ids: list[int]):
    for start in range(0, len(ids), REFRESH_BATCH):
        yield ids[start : start + REFRESH_BATCH]


def _minutes(since: datetime, until: datetime) -> float:
    return (until - since).total_seconds() / 60


def _recompute(organisation: Organisation, root_ids: list[int]) -> None:
    """These threads' rows computed from their messages, in one transaction (`refresh_conversations`:
    its queries do not grow with the batch); a batch that fails (a deadlock with the pipeline
    writing the same rows) is done again a thread at a time."""
    try:
        with transaction.atomic():
            refresh_conversations(organisation, dict.fromkeys(root_ids))
    except DatabaseError:
        logger.warning("re-ranking %d threads at once failed; one at a time", len(root_ids), exc_info=True)
        for root_id in root_ids:
            with transaction.atomic():
                refresh_conversation(organisation, root_id)


# More overdue threads than this for one person in one tick (a busy site's comments crossing
# their target together): one notification that counts them, not one each.
WARN_ONE_BY_ONE = 5


def warn_breaches(organisation: Organisation, *, now: datetime | None = None) -> int:
    """Tell the assignee (or the repliers when nobody holds it) that a response is overdue, once a
    wait. Reads only the breaches nobody was told of (`sla_warned_at`, partial index): the threads
    that have waited past their target for long are not read again at every tick. Returns how many
    threads were told of."""
    now = now or timezone.now()
    with transaction.atomic():
        # Claimed under the rows' lock (a row another tick or the pipeline holds is left for the
        # next tick): two ticks running together tell nobody twice.
        breached = list(
            Conversation.objects.for_org(organisation)
            .filter(awaiting_reply=True, sla_warned_at=None, first_response_due_at__lt=now)
            .exclude(status=Status.CLOSED)
            .order_by("first_response_due_at", "pk")
            .select_for_update(skip_locked=True)
            .only("pk", "assignee_id", "author_label", "preview", "first_response_due_at")
        )
        Conversation.objects.filter(pk__in=[c.pk for c in breached]).update(sla_warned_at=now)
        _tell_overdue(organisation, breached)
    return len(breached)


def _tell_overdue(organisation: Organisation, breached: list[Conversation]) -> None:
    """One notification a thread and person, or one that counts them past `WARN_ONE_BY_ONE`."""
    if not breached:
        return
    everyone = [m.user_id for m in _repliers(organisation)]
    told: dict[int, list[Conversation]] = {}
    for conversation in breached:
        for user_id in [conversation.assignee_id] if conversation.assignee_id else everyone:
            told.setdefault(user_id, []).append(conversation)
    notifications = []
    for user_id, overdue in told.items():
        if len(overdue) > WARN_ONE_BY_ONE:
            # The longest overdue named; the list's "overdue" filter shows them all.
            notifications.append(_overdue_notification(organisation, user_id, overdue[0], count=len(overdue)))
        else:
            notifications += [_overdue_notification(organisation, user_id, c) for c in overdue]
    Notification.objects.bulk_create(notifications)


def _overdue_notification(
    organisation: Organisation, user_id: int, conversation: Conversation, *, count: int = 1
) -> Notification:
    said = {"author": conversation.author_label, "text": conversation.preview[:200]}
    if count == 1:
        text = _("Response overdue: %(author)s: %(text)s") % said
    else:
        text = ngettext(
            "%(count)s response overdue, the longest: %(author)s: %(text)s",
            "%(count)s responses overdue, the longest: %(author)s: %(text)s",
            count,
        ) % {"count": count, **said}
    return Notification(
        organisation=organisation,
        user_id=user_id,
        kind=Notification.Kind.SLA,
        text=text[:500],
        # One thread: its page; several: the inbox's overdue threads (notifications.html).
        conversation=conversation if count == 1 else None,
    )


def overnight(organisation: Organisation, *, now: datetime | None = None) -> dict[str, Any]:
    """What came in since the team last left: counts by intent and the threads that need someone."""
    now = now or timezone.now()
    calendar = business_hours(organisation)
    since = calendar.last_opening_before(now) or now - timedelta(hours=16)
    rows = Conversation.objects.for_org(organisation).filter(last_customer_message_at__gte=since)
    by_intent: dict[str, int] = {}
    for intent in rows.values_list("intent", flat=True):
        by_intent[intent] = by_intent.get(intent, 0) + 1
    return {
        "since": since,
        "total": sum(by_intent.values()),
        "by_intent": by_intent,
        "urgent": list(
            rows.filter(Q(priority__gte=URGENT) | Q(intent=Intent.CRISIS)).order_by("-priority")[:20]
        ),
        "waiting": list(
            rows.filter(awaiting_reply=True).exclude(status=Status.CLOSED).order_by("-priority")[:50]
        ),
    }


def send_digest(organisation: Organisation, *, now: datetime | None = None) -> int:
    """The morning digest: one notification (and mail) per replier, once a day."""
    now = now or timezone.now()
    summary = overnight(organisation, now=now)
    local_day_start = now.astimezone(business_hours(organisation).zone).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    sent = 0
    text = _("Overnight: %(total)s threads, %(urgent)s urgent, %(waiting)s waiting for an answer.") % {
        "total": summary["total"],
        "urgent": len(summary["urgent"]),
        "waiting": len(summary["waiting"]),
    }
    for membership in _repliers(organisation):
        if (
            Notification.objects.for_org(organisation)
            .filter(user=membership.user, kind=Notification.Kind.DIGEST, created_at__gte=local_day_start)
            .exists()
        ):
            continue
        Notification.objects.create(
            organisation=organisation, user=membership.user, kind=Notification.Kind.DIGEST, text=text
        )
        if membership.user.email:
            try:
                send_mail(_("Palabre: the morning digest"), text, None, [membership.user.email])
            except OSError:
                logger.exception("digest mail to %s failed", membership.user.email)
        sent += 1
    return sent
