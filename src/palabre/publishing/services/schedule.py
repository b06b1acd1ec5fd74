"""Scheduling variants and publishing them when due: the guardrails re-run, promotion held in a crisis, one outbox publication per variant; the best posting times."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.connectors.models import ActionStatus, OutboundAction
from palabre.conversations.models import Item, ItemKind
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record
from palabre.publishing import guardrails
from palabre.publishing import media as post_media
from palabre.publishing.models import (
    PostStatus,
    PostVariant,
    VariantState,
)
from palabre.publishing.services.access import _can_edit, _send_back, keeps_approval_on_reschedule, posts_for
from palabre.publishing.services.checks import check_variant, crisis_active

SETTLED_ACTION = {ActionStatus.SENT, ActionStatus.FAILED, ActionStatus.NEEDS_CHECK, ActionStatus.CANCELLED}


# --- schedule -----------------------------------------------------------------------------------


def _enqueue_publication(variant: PostVariant) -> None:
    from palabre.connectors.tasks import enqueue_at
    from palabre.publishing.tasks import publish_variant

    pk, when = variant.pk, variant.scheduled_at

    def enqueue() -> None:  # the schedule's publishing.tick takes up what this task misses
        enqueue_at(publish_variant, when, pk)

    transaction.on_commit(enqueue)


def _schedule(actor: Actor, variant: PostVariant, at: datetime) -> PostVariant:
    before = {
        "scheduled_at": variant.scheduled_at.isoformat() if variant.scheduled_at else None,
        "state": variant.state,
    }
    variant.scheduled_at = at
    held = crisis_active(variant.organisation) and _is_promotional(variant)
    if held:
        variant.state, variant.held_reason, variant.held_at = VariantState.HELD, "crisis", timezone.now()
    else:
        variant.state, variant.held_reason, variant.held_at = VariantState.SCHEDULED, "", None
    variant.save(update_fields=["scheduled_at", "state", "held_reason", "held_at"])
    record(
        actor,
        "post.held" if held else "post.scheduled",
        variant.post,
        before=before,
        after={"channel": str(variant.channel), "scheduled_at": at.isoformat(), "state": variant.state},
    )
    if not held:
        _enqueue_publication(variant)
    return variant


@transaction.atomic
def schedule_variant(*, actor: Actor, variant: PostVariant, at: datetime | None) -> PostVariant:
    """Set or change a variant's time (the calendar's drag and drop). On an approved post it is
    scheduled at once; on a draft it is the proposed time. None takes it off the calendar."""
    variant = (
        PostVariant.objects.select_for_update(of=("self",))
        .select_related("post", "channel", "post__campaign")
        .visible_to(actor)
        .filter(pk=variant.pk)
        .first()
    )
    if variant is None:
        raise NotInOrganisation
    post = variant.post
    if post.status == PostStatus.APPROVED or variant.state in {VariantState.SCHEDULED, VariantState.HELD}:
        actor.require(Perm.POSTS_APPROVE)
    else:
        _can_edit(actor, post)
    if variant.state == VariantState.HANDED_OVER:
        raise ValidationError({"scheduled_at": _("This variant is already published.")})
    if at is not None:
        if not isinstance(at, datetime) or timezone.is_naive(at):
            raise ValidationError({"scheduled_at": _("Give a date and time with its time zone.")})
        if at < timezone.now() - timedelta(minutes=1):
            raise ValidationError({"scheduled_at": _("This time is in the past.")})
    if post.status == PostStatus.APPROVED and at is not None and keeps_approval_on_reschedule(actor):
        return _schedule(actor, variant, at)
    before = {
        "scheduled_at": variant.scheduled_at.isoformat() if variant.scheduled_at else None,
        "state": variant.state,
    }
    variant.scheduled_at = at
    if variant.state in {VariantState.SCHEDULED, VariantState.HELD} and at is None:
        variant.state = VariantState.DRAFT
    variant.save(update_fields=["scheduled_at", "state"])
    record(
        actor, "post.rescheduled", post, before=before, after={"scheduled_at": at.isoformat() if at else None}
    )
    if post.status == PostStatus.APPROVED and at is not None:
        _send_back(actor, post, "time")  # the organisation asks for a new approval on a new time
    return variant


def _is_promotional(variant: PostVariant) -> bool:
    post = variant.post
    if post.promotional is not None:
        return post.promotional
    return guardrails.is_promotional(variant.text, post.campaign.kind if post.campaign_id else "")


def _settled(variant: PostVariant) -> bool:
    if variant.state != VariantState.HANDED_OVER:
        return variant.state != VariantState.SCHEDULED
    return variant.action is None or variant.action.status in SETTLED_ACTION


def publish_due(variant_id: int, *, now: datetime | None = None) -> str:
    """Hand a due variant to the outbox, once. Safe to run any number of times, concurrently:
    the row is locked and re-checked, and the outbox key is the variant's."""
    from palabre.connectors.services import queue_publication

    now = now or timezone.now()
    with transaction.atomic():
        variant = (
            PostVariant.objects.select_for_update(of=("self",))
            .select_related("post", "channel", "organisation", "post__campaign")
            .filter(pk=variant_id)
            .first()
        )
        if variant is None:
            return "gone"
        if variant.state != VariantState.SCHEDULED:
            return "unchanged"  # handed over, held, blocked or unscheduled meanwhile
        if variant.scheduled_at is None or variant.scheduled_at > now:
            return "not_due"
        post = variant.post
        palabre_actor = Actor.palabre(variant.organisation)
        if post.status != PostStatus.APPROVED:
            variant.state = VariantState.DRAFT
            variant.save(update_fields=["state"])
            return "not_approved"
        if _is_promotional(variant) and crisis_active(variant.organisation):
            variant.state, variant.held_reason, variant.held_at = VariantState.HELD, "crisis", now
            variant.save(update_fields=["state", "held_reason", "held_at"])
            record(
                palabre_actor, "post.held", post, after={"channel": str(variant.channel), "reason": "crisis"}
            )
            return "held"
        verdict = check_variant(variant)
        if verdict.blocks and all(f.guardrail == guardrails.OPEN_ALERT for f in verdict.blocks):
            # The post speaks of what an open crisis alert is about: it waits, like crisis holds.
            variant.state, variant.held_reason, variant.held_at = VariantState.HELD, "alert", now
            variant.save(update_fields=["state", "held_reason", "held_at"])
            record(
                palabre_actor,
                "post.held",
                post,
                after={
                    "channel": str(variant.channel),
                    "reason": "alert",
                    "alerts": [f.params.get("name") for f in verdict.blocks],
                },
            )
            return "held"
        if verdict.blocks:
            variant.state = VariantState.BLOCKED
            variant.save(update_fields=["state"])
            record(
                palabre_actor,
                "post.blocked",
                post,
                after={"channel": str(variant.channel), "findings": [f.explanation for f in verdict.blocks]},
            )
            return "blocked"
        try:
            action = queue_publication(
                actor=palabre_actor,
                channel=variant.channel,
                text=variant.text,
                idempotency_key=variant.idempotency_key,
                media=[*post_media.to_send(variant), *(m for m in variant.media if m.get("content_b64"))],
            )
        except ValidationError as error:
            variant.state = VariantState.BLOCKED
            variant.guardrail_findings = [
                *variant.guardrail_findings,
                guardrails.Finding(
                    guardrails.CHANNEL_LIMITS, guardrails.BLOCK, " ".join(error.messages)
                ).as_dict(),
            ]
            variant.save(update_fields=["state", "guardrail_findings"])
            record(
                palabre_actor,
                "post.blocked",
                post,
                after={"channel": str(variant.channel), "error": error.messages},
            )
            return "refused"
        variant.action = action
        variant.state = VariantState.HANDED_OVER
        variant.handed_over_at = now
        variant.save(update_fields=["action", "state", "handed_over_at"])
        record(
            palabre_actor,
            "post.handed_over",
            post,
            after={"channel": str(variant.channel), "action": action.pk},
        )
        return "handed_over"


def delivery_due(variant: PostVariant, *, now: datetime | None = None) -> int | None:
    """The outbox action to (re)deliver for this variant, if its delivery was interrupted."""
    now = now or timezone.now()
    action = OutboundAction.objects.filter(pk=variant.action_id).first() if variant.action_id else None
    if action is None:
        return None
    if action.status == ActionStatus.QUEUED and (
        action.next_attempt_at is None or action.next_attempt_at <= now
    ):
        return action.pk
    if action.status == ActionStatus.SENDING and action.lease_until is not None and action.lease_until < now:
        return action.pk
    return None


def due_variant_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Scheduled variants whose time has come, and handed-over ones whose delivery is unsettled."""
    now = now or timezone.now()
    due = PostVariant.objects.filter(
        models.Q(state=VariantState.SCHEDULED, scheduled_at__lte=now)
        | models.Q(
            state=VariantState.HANDED_OVER, action__status__in=[ActionStatus.QUEUED, ActionStatus.SENDING]
        )
    )
    return list(due.order_by("scheduled_at", "pk").values_list("pk", flat=True)[:limit])


# --- best times ---------------------------------------------------------------------------------


def best_posting_times(actor: Actor, *, days: int = 180, top: int = 5) -> list[dict[str, Any]]:
    """When the brand's own posts got the most engagement, by hour of the week in the
    organisation's time zone: [{weekday, hour, posts, engagement}] best first."""
    from zoneinfo import ZoneInfo

    posts_for(actor)
    zone = ZoneInfo(actor.organisation.time_zone)
    since = timezone.now() - timedelta(days=days)
    brand_handles = Channel.objects.visible_to(actor).values_list("handle", flat=True)
    rows = (
        Item.objects.visible_to(actor)
        .filter(kind=ItemKind.POST, created_at__gte=since, author__handle__in=list(brand_handles))
        .values_list("created_at", "metrics")
    )
    slots: dict[tuple[int, int], list[float]] = {}
    for created_at, metrics in rows:
        local = created_at.astimezone(zone)
        metrics = metrics if isinstance(metrics, dict) else {}
        score = 0.0
        for key, weight in (
            ("likes", 1.0),
            ("replies", 3.0),
            ("comments", 3.0),
            ("shares", 2.0),
            ("reposts", 2.0),
        ):
            value = metrics.get(key)
            if isinstance(value, int | float):
                score += weight * float(value)
        slots.setdefault((local.weekday(), local.hour), []).append(score)
    ranked = sorted(
        (
            {
                "weekday": day,
                "hour": hour,
                "posts": len(scores),
                "engagement": round(sum(scores) / len(scores), 1),
            }
            for (day, hour), scores in slots.items()
        ),
        key=lambda s: (-s["engagement"], -s["posts"]),
    )
    return ranked[:top]
