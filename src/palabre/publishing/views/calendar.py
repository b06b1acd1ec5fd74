"""The editorial calendar (month, week) and moving a variant to another day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.conversations.models import Item, ItemKind
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view
from palabre.publishing import services
from palabre.publishing.models import PostStatus, PostVariant, VariantState
from palabre.publishing.views.common import STATE_STYLES, _can_see


def _day(value: str | None, zone: ZoneInfo) -> date:
    try:
        return date.fromisoformat(value) if value else timezone.now().astimezone(zone).date()
    except ValueError:
        return timezone.now().astimezone(zone).date()


def _range(view: str, day: date) -> tuple[date, date, date, date]:
    """(first shown day, day after the last, previous period's day, next period's day)."""
    if view == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7), start - timedelta(days=7), start + timedelta(days=7)
    first = day.replace(day=1)
    start = first - timedelta(days=first.weekday())
    following = (first + timedelta(days=32)).replace(day=1)
    end = following + timedelta(days=(7 - following.weekday()) % 7)
    previous = (first - timedelta(days=1)).replace(day=1)
    return start, end, previous, following


@member_view()
def calendar(request: HttpRequest, actor: Actor) -> HttpResponse:
    _can_see(actor)
    zone = ZoneInfo(actor.organisation.time_zone)
    view = "week" if request.GET.get("view") == "week" else "month"
    day = _day(request.GET.get("date"), zone)
    start, end, previous, following = _range(view, day)
    start_at = datetime.combine(start, time.min, tzinfo=zone)
    end_at = datetime.combine(end, time.min, tzinfo=zone)
    variants = list(
        PostVariant.objects.visible_to(actor)
        .filter(scheduled_at__gte=start_at, scheduled_at__lt=end_at)
        .exclude(state=VariantState.CANCELLED)
        .select_related("post", "channel", "action")
        .order_by("scheduled_at", "pk")
    )
    by_day: dict[date, list[dict]] = {}
    for variant in variants:
        local = variant.scheduled_at.astimezone(zone)
        by_day.setdefault(local.date(), []).append(
            {
                "variant": variant,
                "time": local.strftime("%H:%M"),
                "style": STATE_STYLES.get(variant.state, "draft"),
                "post_status": variant.post.status,
                "movable": variant.state != VariantState.HANDED_OVER
                and (
                    actor.can(Perm.POSTS_APPROVE)
                    or variant.post.status in {PostStatus.DRAFT, PostStatus.REJECTED}
                ),
            }
        )
    # What the brand published itself, as its channels show it (posts written outside Palabre too).
    handed_over = {
        v.action.external_id for v in variants if v.action_id and v.action and v.action.external_id
    }
    published = (
        Item.objects.visible_to(actor)
        .filter(
            kind=ItemKind.POST,
            created_at__gte=start_at,
            created_at__lt=end_at,
            author__handle__in=Channel.objects.visible_to(actor).values("handle"),
        )
        .select_related("channel")
        .order_by("created_at")[:500]
    )
    for item in published:
        if item.external_id in handed_over or item.author_id is None:
            continue
        local = item.created_at.astimezone(zone)
        by_day.setdefault(local.date(), []).append(
            {"item": item, "time": local.strftime("%H:%M"), "style": "published", "movable": False}
        )
    for entries in by_day.values():
        entries.sort(key=lambda e: e["time"])
    today = timezone.now().astimezone(zone).date()
    days = [
        {
            "date": start + timedelta(days=n),
            "entries": by_day.get(start + timedelta(days=n), []),
            "outside": view == "month" and (start + timedelta(days=n)).month != day.month,
            "today": start + timedelta(days=n) == today,
        }
        for n in range((end - start).days)
    ]
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    best = services.best_posting_times(actor)
    context = {
        "view": view,
        "day": day,
        "weeks": weeks,
        "weekdays": [WEEKDAYS[n] for n in range(7)],
        "previous": previous.isoformat(),
        "following": following.isoformat(),
        "today": today.isoformat(),
        "pending": services.posts_for(actor).filter(status=PostStatus.PENDING)[:20],
        "unscheduled": PostVariant.objects.visible_to(actor)
        .filter(scheduled_at__isnull=True, state=VariantState.DRAFT)
        .select_related("post", "channel")[:20],
        "held": services.held_variants(actor)[:50],
        "crisis": services.crisis_active(actor.organisation),
        "best": [{**b, "weekday_name": WEEKDAYS[b["weekday"]]} for b in best],
        "can_approve": actor.can(Perm.POSTS_APPROVE),
        "keeps_approval": services.keeps_approval_on_reschedule(actor),
    }
    return render(request, "publishing/calendar.html", context)


@require_POST
@member_view()
def move(request: HttpRequest, actor: Actor, variant_id: int) -> HttpResponse:
    """Drag and drop, or the keyboard: a new day (same time of day), or a shift in days or hours."""
    _can_see(actor)
    variant = services.get_variant(actor=actor, variant_id=variant_id)
    zone = ZoneInfo(actor.organisation.time_zone)
    current = (variant.scheduled_at or timezone.now()).astimezone(zone)
    try:
        if request.POST.get("date"):
            target = date.fromisoformat(request.POST["date"])
            new = datetime.combine(target, current.timetz().replace(tzinfo=None), tzinfo=zone)
        else:
            days = int(request.POST.get("days") or 0)
            hours = int(request.POST.get("hours") or 0)
            if abs(days) > 366 or abs(hours) > 24 * 366:
                raise ValueError
            local = current.replace(tzinfo=None) + timedelta(days=days, hours=hours)
            new = local.replace(tzinfo=zone)
    except ValueError:
        return JsonResponse({"error": _("Give a date as YYYY-MM-DD.")}, status=422)
    try:
        services.schedule_variant(actor=actor, variant=variant, at=new)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=422)
    return JsonResponse(
        {"scheduled_at": new.isoformat(), "date": new.date().isoformat(), "time": new.strftime("%H:%M")}
    )
