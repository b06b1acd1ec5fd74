"""Moderation sent back to the platform: each channel's policy (what a rejection does there: hide,
delete or nothing; what a restoration does: show again or nothing), set by an admin, and the
outbox actions it queues when moderation decides.

Moderation (a floor above) calls `send_moderation` once its decision is committed; nothing is
queued where the channel's connector does not declare the capability, and an item is never hidden
twice nor shown again unless Palabre hid it. The site's own comments are left out: moderation
already decides what the comment widget shows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from palabre.connectors.models import ActionKind, ActionStatus, OutboundAction
from palabre.connectors.registry import connector_class_for
from palabre.connectors.services.outbox import KIND_CAPABILITIES, _queue_on_item
from palabre.connectors.services.pacing import _same_org
from palabre.conversations.models import Item
from palabre.orgs.models import Channel, Platform
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, record

logger = logging.getLogger(__name__)

POLICY_KEY = "platform_moderation"
ON_REJECT = {
    "nothing": gettext_lazy("Do nothing on the platform"),
    "hide": gettext_lazy("Hide it on the platform"),
    "delete": gettext_lazy("Delete it on the platform"),
}
ON_RESTORE = {
    "nothing": gettext_lazy("Do nothing on the platform"),
    "unhide": gettext_lazy("Show it again on the platform"),
}
KINDS = {"hide": ActionKind.HIDE, "delete": ActionKind.DELETE, "unhide": ActionKind.UNHIDE}
# Where moderation itself decides what is shown (the comment widget), nothing is sent.
OWN_MODERATION = frozenset({Platform.SITE})
REJECTED, RESTORED = "rejected", "restored"
# The actions that leave an item hidden (or gone) on its platform, or show it again.
_HIDING = (ActionKind.HIDE, ActionKind.DELETE)
_LIVE = (ActionStatus.QUEUED, ActionStatus.SENDING, ActionStatus.SENT, ActionStatus.NEEDS_CHECK)


def policy_of(channel: Channel) -> dict[str, str]:
    stored = (channel.options or {}).get(POLICY_KEY) or {}
    return {
        "on_reject": stored.get("on_reject") if stored.get("on_reject") in ON_REJECT else "nothing",
        "on_restore": stored.get("on_restore") if stored.get("on_restore") in ON_RESTORE else "nothing",
    }


def policy_choices(channel: Channel) -> dict[str, list[tuple[str, str]]]:
    """What the channel's connector can do of each policy (always "nothing")."""
    connector_class = connector_class_for(channel.platform)
    declared = connector_class.capabilities if connector_class else frozenset()
    if channel.platform in OWN_MODERATION:
        declared = frozenset()

    def can(choice: str) -> bool:
        return choice == "nothing" or KIND_CAPABILITIES[KINDS[choice]] in declared

    return {
        "on_reject": [(key, str(label)) for key, label in ON_REJECT.items() if can(key)],
        "on_restore": [(key, str(label)) for key, label in ON_RESTORE.items() if can(key)],
    }


@transaction.atomic
def update_platform_moderation(*, actor: Actor, channel: Channel, on_reject: str, on_restore: str) -> Channel:
    """An admin sets what moderation does on the channel's platform."""
    actor.require(Perm.CHANNELS_MANAGE)
    _same_org(actor, channel.organisation_id)
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    choices = policy_choices(channel)
    errors = {}
    for name, value in (("on_reject", on_reject), ("on_restore", on_restore)):
        if value not in dict(choices[name]):
            errors[name] = _("This channel's platform cannot do this: choose one of %(choices)s.") % {
                "choices": ", ".join(key for key, _label in choices[name])
            }
    if errors:
        raise ValidationError(errors)
    before = policy_of(channel)
    after = {"on_reject": on_reject, "on_restore": on_restore}
    channel.options = {**(channel.options or {}), POLICY_KEY: after}
    channel.save(update_fields=["options"])
    record(actor, "connectors.platform_moderation_updated", channel, before=before, after=after)
    return channel


def _hidden_by_palabre(item: Item) -> OutboundAction | None:
    """The latest hide, delete or unhide asked for the item, when it is a hide or a delete."""
    latest = (
        OutboundAction.objects.filter(item=item, kind__in=[*_HIDING, ActionKind.UNHIDE], status__in=_LIVE)
        .order_by("-created_at", "-pk")
        .first()
    )
    return latest if latest is not None and latest.kind in _HIDING else None


def _one(actor: Actor, item: Item, outcome: str) -> OutboundAction | None:
    channel = item.channel
    if channel.platform in OWN_MODERATION or channel.status == Channel.Status.ARCHIVED:
        return None
    policy = policy_of(channel)
    choice = policy["on_reject"] if outcome == REJECTED else policy["on_restore"]
    if choice == "nothing":
        return None
    connector_class = connector_class_for(channel.platform)
    kind = KINDS[choice]
    if connector_class is None or KIND_CAPABILITIES[kind] not in connector_class.capabilities:
        return None
    hidden = _hidden_by_palabre(item)
    if outcome == REJECTED:
        if hidden is not None:
            return None  # hidden already (or on its way)
        return _queue_on_item(actor, item, kind)
    if hidden is None or hidden.kind != ActionKind.HIDE:
        return None  # Palabre did not hide it (or deleted it: nothing to show again)
    if hidden.status == ActionStatus.QUEUED:
        # Not sent yet: giving it up is all it takes.
        hidden.status = ActionStatus.CANCELLED
        hidden.save(update_fields=["status", "updated_at"])
        record(
            actor,
            "outbound.cancelled",
            hidden,
            before={"status": ActionStatus.QUEUED},
            after={"status": hidden.status},
        )
        return hidden
    return _queue_on_item(actor, item, kind)


def send_moderation(*, item_ids: Iterable[int], outcome: str, user=None) -> list[OutboundAction]:
    """Moderation rejected (or restored) these items: queue what each channel's policy asks.
    `user`: the moderator who decided (None: Palabre's own decision). Run once the decision is
    committed; an item whose action cannot be queued is logged and left, the decision stands."""
    if outcome not in {REJECTED, RESTORED}:
        raise ValueError(f"unknown outcome: {outcome}")
    ids = sorted(set(item_ids))
    if not ids:
        return []
    items = Item.objects.filter(pk__in=ids, channel__options__has_key=POLICY_KEY).select_related(
        "channel", "organisation"
    )
    queued = []
    for item in items:
        actor = None
        if user is not None:
            try:
                actor = Actor.for_user(user, item.organisation)
            except PermissionDenied:  # left the organisation since: Palabre acts on the decision
                actor = None
        if actor is None or not actor.can(Perm.MODERATION_ACT):
            actor = Actor.palabre(item.organisation)
        try:
            with transaction.atomic():
                action = _one(actor, item, outcome)
        except ValidationError as error:
            logger.warning("connectors: moderation of item %s not sent to its platform: %s", item.pk, error)
            continue
        if action is not None:
            queued.append(action)
    return queued
