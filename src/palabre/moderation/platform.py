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


def decided(item_id: int, *, status_before: str, status_after: str, user=None) -> None:
    """An item's status changed: a rejection, or a rejection taken back, goes to its platform."""
    rejected = ModerationStatus.REJECTED
    if status_after == rejected and status_before != rejected:
        outcome = "rejected"
    elif status_before == rejected and status_after != rejected:
        outcome = "restored"
    else:
        return
    transaction.on_commit(lambda: _send([item_id], outcome, user))


def decided_many(decisions: Iterable[ModerationDecision]) -> None:
    """A batch of automatic decisions: the rejected items go to their platforms."""
    rejected = [row.item_id for row in decisions if row.status_after == ModerationStatus.REJECTED]
    if rejected:
        transaction.on_commit(lambda: _send(rejected, "rejected", None))
