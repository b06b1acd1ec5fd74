"""Read-only questions the moderation pages ask, on behalf of an actor. Nothing here writes.

Another organisation's object raises NotInOrganisation, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Count

from palabre.conversations.models import Item
from palabre.moderation.models import (
    AuthorTrust,
    ItemModeration,
    ModerationDecision,
    ModerationRule,
    ModerationStatus,
)
from palabre.orgs.models import Organisation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation

# The tabs of the review queue, in the order a moderator works through them.
QUEUE_TABS = (
    ModerationStatus.HELD,
    ModerationStatus.REPORTED,
    ModerationStatus.PENDING,
    ModerationStatus.REJECTED,
    ModerationStatus.APPROVED,
)
NEEDS_ATTENTION = (ModerationStatus.HELD, ModerationStatus.REPORTED)


def queue_counts(actor: Actor) -> dict[str, int]:
    """How many items each tab holds, in one query."""
    actor.require(Perm.MODERATION_ACT)
    rows = (
        ItemModeration.objects.visible_to(actor)
        .filter(status__in=QUEUE_TABS)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = dict.fromkeys(QUEUE_TABS, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def attention_count(organisation: Organisation) -> int:
    """Held and reported items: the number on the menu. One indexed count."""
    return ItemModeration.objects.for_org(organisation).filter(status__in=NEEDS_ATTENTION).count()


@dataclass(frozen=True)
class AuthorHistory:
    items: int = 0
    approved: int = 0
    rejected: int = 0
    spam: int = 0

    @property
    def karma(self) -> int:
        # Same formula as AuthorTrust.karma.
        return self.approved - self.rejected - 2 * self.spam

    @property
    def trust(self) -> str:
        """new, trusted, watched or known; `trusted` and `watched` mirror the engine's trust shift."""
        bad = self.rejected + self.spam
        if self.approved == 0 and bad == 0:
            return "new"
        if bad == 0 and self.approved >= 3:
            return "trusted"
        if bad > self.approved:
            return "watched"
        return "known"


def author_histories(actor: Actor, contact_ids: set[int]) -> dict[int, AuthorHistory]:
    """For the contacts on a page: their items and what moderators said of them (two queries)."""
    actor.require(Perm.MODERATION_ACT)
    contact_ids = {c for c in contact_ids if c}
    if not contact_ids:
        return {}
    counts = dict(
        Item.objects.visible_to(actor)
        .filter(contact_id__in=contact_ids)
        .values("contact_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("contact_id", "n")
    )
    trust = {
        row.contact_id: row
        for row in AuthorTrust.objects.visible_to(actor).filter(contact_id__in=contact_ids)
    }
    histories = {}
    for contact_id in contact_ids:
        row = trust.get(contact_id)
        histories[contact_id] = AuthorHistory(
            items=counts.get(contact_id, 0),
            approved=row.approved if row else 0,
            rejected=row.rejected if row else 0,
            spam=row.spam if row else 0,
        )
    return histories


def moderation_of(actor: Actor, item_id: int) -> ItemModeration | None:
    """Where an item of the organisation stands; None when it was never moderated."""
    actor.require(Perm.MODERATION_ACT)
    return (
        ItemModeration.objects.visible_to(actor)
        .filter(item_id=item_id)
        .select_related("last_decision", "last_decision__decided_by")
        .first()
    )


def decisions(actor: Actor, item: Item) -> models.QuerySet[ModerationDecision]:
    """An item's decision log, newest first."""
    actor.require(Perm.MODERATION_ACT)
    if item.organisation_id != actor.organisation.pk:
        raise NotInOrganisation
    return ModerationDecision.objects.visible_to(actor).filter(item=item).select_related("decided_by")


def items_in_organisation(actor: Actor, item_ids: list[int]) -> set[int]:
    """Those of `item_ids` that belong to the actor's organisation."""
    return set(Item.objects.visible_to(actor).filter(pk__in=item_ids).values_list("pk", flat=True))


def rules(actor: Actor) -> models.QuerySet[ModerationRule]:
    actor.require(Perm.MODERATION_RULES)
    return ModerationRule.objects.visible_to(actor).select_related("created_by")


def rule(actor: Actor, rule_id: int) -> ModerationRule:
    found = rules(actor).filter(pk=rule_id).first()
    if found is None:
        raise NotInOrganisation
    return found


@dataclass(frozen=True)
class QueueFacets:
    """What the items of one tab can be narrowed by, each with its count."""

    channels: list[tuple[int, str, int]]  # (channel id, name, items)
    reasons: list[tuple[str, int]]  # ("rule:<id>" or a reason code, items)
    rule_patterns: dict[str, str]  # "rule:<id>" -> the rule's pattern, for naming it


def queue_facets(actor: Actor, status: str, channel: int | None = None) -> QueueFacets:
    """Per channel and per reason (rule fired, or the reason's code), how many items of a tab.
    Reasons are counted within `channel` when one is chosen (three queries)."""
    actor.require(Perm.MODERATION_ACT)
    tab = ItemModeration.objects.visible_to(actor).filter(status=status)
    channels = [
        (row["item__channel_id"], row["item__channel__name"], row["n"])
        for row in tab.values("item__channel_id", "item__channel__name")
        .annotate(n=Count("pk"))
        .order_by("item__channel__name")
    ]
    if channel is not None:
        tab = tab.filter(item__channel_id=channel)
    counts: dict[str, int] = {}
    for reasons, fired in tab.values_list("last_decision__reasons", "last_decision__rules_fired").iterator():
        keys = {str(rule) for rule in fired or () if str(rule).startswith("rule:")}
        keys |= {
            str(reason["code"])
            for reason in reasons or ()
            if isinstance(reason, dict) and reason.get("code") and not reason.get("rule")
        }
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    rule_ids = [int(key[5:]) for key in counts if key.startswith("rule:") and key[5:].isdigit()]
    patterns = {
        f"rule:{pk}": pattern
        for pk, pattern in ModerationRule.objects.visible_to(actor)
        .filter(pk__in=rule_ids)
        .values_list("pk", "pattern")
    }
    reasons = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return QueueFacets(channels=channels, reasons=reasons, rule_patterns=patterns)
