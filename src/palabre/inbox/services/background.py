"""Background work: open threads refreshed, SLA breaches warned, the overnight summary and the morning digest."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.mail import send_mail
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.inbox.models import (
    Conversation,
    Intent,
    Notification,
    Status,
)
from palabre.inbox.priority import URGENT
from palabre.inbox.services.reading import _repliers, business_hours
from palabre.inbox.services.threads import refresh_conversation, refresh_conversations
from palabre.orgs.models import Organisation

logger = logging.getLogger(__name__)


# Threads re-ranked a transaction at a time: one thread a transaction cost a dozen queries each,
# so the periodic tick of a site with 171,000 comments waiting held the only task worker 13
# minutes (comment storing stalled behind it, `palabre bench api --rate 500`).
REFRESH_BATCH = 200


def refresh_open(organisation: Organisation) -> int:
    """Re-rank the threads waiting for an answer: priority rises with waiting time. In batches of
    `REFRESH_BATCH` (`refresh_conversations`: its queries do not grow with the batch); a batch that
    fails (a deadlock with the pipeline writing the same rows) is done again a thread at a time."""
    ids = list(
        Conversation.objects.for_org(organisation)
        .filter(awaiting_reply=True)
        .exclude(status=Status.CLOSED)
        .order_by("root_id")
        .values_list("root_id", flat=True)
    )
    for start in range(0, len(ids), REFRESH_BATCH):
        batch = ids[start : start + REFRESH_BATCH]
        try:
            with transaction.atomic():
                refresh_conversations(organisation, dict.fromkeys(batch))
        except DatabaseError:
            logger.warning("re-ranking %d threads at once failed; one at a time", len(batch), exc_info=True)
            for root_id in batch:
                with transaction.atomic():
                    refresh_conversation(organisation, root_id)
    return len(ids)


def warn_breaches(organisation: Organisation, *, now: datetime | None = None) -> int:
    """Tell the assignee (or the repliers when nobody holds it) that a response is overdue. Once."""
    now = now or timezone.now()
    breached = (
        Conversation.objects.for_org(organisation)
        .filter(awaiting_reply=True, first_response_due_at__lt=now)
        .exclude(status=Status.CLOSED)
    )
    warned = 0
    already = set(
        Notification.objects.for_org(organisation)
        .filter(kind=Notification.Kind.SLA, conversation__in=breached)
        .values_list("conversation_id", flat=True)
    )
    everyone = [m.user for m in _repliers(organisation)]
    for conversation in breached.select_related("assignee"):
        if conversation.pk in already:
            continue
        for person in [conversation.assignee] if conversation.assignee else everyone:
            Notification.objects.create(
                organisation=organisation,
                user=person,
                kind=Notification.Kind.SLA,
                text=(
                    _("Response overdue: %(author)s: %(text)s")
                    % {"author": conversation.author_label, "text": conversation.preview[:200]}
                )[:500],
                conversation=conversation,
            )
        warned += 1
    return warned


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
