"""Crisis holds: scheduled promotion held while a crisis is on, and released by a person once it is over."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.orgs.models import Organisation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, record
from palabre.publishing.models import (
    PostVariant,
    VariantState,
)
from palabre.publishing.services.access import posts_for
from palabre.publishing.services.checks import crisis_active
from palabre.publishing.services.schedule import _is_promotional, _schedule


def hold_for_crisis(organisation: Organisation, *, actor: Actor | None = None) -> list[PostVariant]:
    """Crisis mode: every scheduled promotional variant waits. Returns what was held."""
    actor = actor or Actor.palabre(organisation)
    held = []
    with transaction.atomic():
        for variant in (
            PostVariant.objects.select_for_update(of=("self",))
            .select_related("post", "post__campaign", "channel")
            .for_org(organisation)
            .filter(state=VariantState.SCHEDULED)
        ):
            if not _is_promotional(variant):
                continue
            variant.state, variant.held_reason, variant.held_at = VariantState.HELD, "crisis", timezone.now()
            variant.save(update_fields=["state", "held_reason", "held_at"])
            held.append(variant)
        if held:
            record(
                actor,
                "publishing.crisis_hold",
                None,
                label=organisation.name,
                after={
                    "held": [
                        {"post": v.post_id, "title": v.post.title, "channel": str(v.channel)} for v in held
                    ]
                },
            )
    return held


def held_variants(actor: Actor) -> models.QuerySet[PostVariant]:
    posts_for(actor)
    return (
        PostVariant.objects.visible_to(actor)
        .filter(state=VariantState.HELD)
        .select_related("post", "channel")
        .order_by("scheduled_at", "pk")
    )


@transaction.atomic
def release_held(
    *, actor: Actor, variant_ids: Sequence[int] | None = None, at: datetime | None = None
) -> list[PostVariant]:
    """After the crisis: the held variants go back on the calendar, at their time or, when it has
    passed, at `at` (default: in 15 minutes, so a person can still look)."""
    actor.require(Perm.POSTS_APPROVE)
    if crisis_active(actor.organisation):
        raise ValidationError({"crisis": _("The organisation is still in crisis mode.")})
    queryset = (
        PostVariant.objects.select_for_update(of=("self",))
        .select_related("post", "channel", "post__campaign")
        .visible_to(actor)
        .filter(state=VariantState.HELD)
    )
    if variant_ids is not None:
        queryset = queryset.filter(pk__in=list(variant_ids))
    now = timezone.now()
    fallback = at or now + timedelta(minutes=15)
    released = []
    for variant in queryset:
        when = variant.scheduled_at if variant.scheduled_at and variant.scheduled_at > now else fallback
        released.append(_schedule(actor, variant, when))
    return released


def on_crisis_changed(organisation: Organisation, *, active: bool, actor: Actor | None = None) -> None:
    """Registered with listening: crisis mode switched on or off (called on commit)."""
    if active:
        hold_for_crisis(organisation, actor=actor)
