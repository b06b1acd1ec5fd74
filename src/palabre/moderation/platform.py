"""Moderation's decisions carried to the platforms: once a decision is committed, the connectors
queue what each channel's policy asks (hide or delete a rejected comment, show a restored one
again), where the platform can (`connectors.services.send_moderation`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from palabre.connectors.services import send_moderation
from palabre.moderation.models import ModerationDecision, ModerationStatus

logger = logging.getLogger(__name__)


def _send(item_ids: list[int], outcome: str, user) -> None:
    try:
        send_moderation(item_ids=item_ids, outcome=outcome, user=user)
    except Exception:  # the decision stands whatever happens on the way to the platform
        logger.exception("moderation: sending %s of items %s to their platforms failed", outcome, item_ids)


def _outcome(status_before: str, status_after: str) -> str | None:
    rejected = ModerationStatus.REJECTED
    if status_after == rejected and status_before != rejected:
        return "rejected"
    if status_before == rejected and status_after != rejected:
        return "restored"
    return None


def decided(item_id: int, *, status_before: str, status_after: str, user=None) -> None:
    """An item's status changed: a rejection, or a rejection taken back, goes to its platform."""
    outcome = _outcome(status_before, status_after)
    if outcome is not None:
        transaction.on_commit(lambda: _send([item_id], outcome, user))


def decided_each(changes: Iterable[tuple[int, str, str]]) -> None:
    """`decided` for a batch of automatic decisions, as (item id, status before, status after):
    one send for each outcome once committed, not one per item (each send reads its items: at 150
    rejections in a batch of 300 comments, 150 queries)."""
    by_outcome: dict[str, list[int]] = {}
    for item_id, status_before, status_after in changes:
        outcome = _outcome(status_before, status_after)
        if outcome is not None:
            by_outcome.setdefault(outcome, []).append(item_id)
    for outcome, item_ids in by_outcome.items():
        transaction.on_commit(lambda item_ids=item_ids, outcome=outcome: _send(item_ids, outcome, None))


def decided_many(decisions: Iterable[ModerationDecision]) -> None:
    """A batch of automatic decisions: the rejected items go to their platforms."""
    rejected = [row.item_id for row in decisions if row.status_after == ModerationStatus.REJECTED]
    if rejected:
        transaction.on_commit(lambda: _send(rejected, "rejected", None))
