"""What moderation asks of the apps above it, without importing them (DESIGN.md's floors).

The inbox knows the organisation's business hours; it registers the provider below in its
AppConfig.ready(). Without a provider, no moment is out of hours and the night policy never applies.
The inbox also listens for moderators' reviews that mark an item as spam or take it back from spam.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Sent with `decisions` (ModerationDecision rows) after a batch of them is written at once: a bulk
# write sends no post_save (the metrics count decisions from both).
decisions_recorded = Signal()

OffHoursProvider = Callable[[int, datetime], bool]
_off_hours_provider: OffHoursProvider | None = None


def register_off_hours_provider(provider: OffHoursProvider | None) -> None:
    """`provider(organisation_id, moment)` says whether the moment is outside the organisation's
    business hours (False when it has none configured). None removes it."""
    global _off_hours_provider
    _off_hours_provider = provider


def is_off_hours(organisation_id: int, moment: datetime) -> bool:
    if _off_hours_provider is None:
        return False
    try:
        return bool(_off_hours_provider(organisation_id, moment))
    except Exception:  # a broken calendar must not stop moderation: decide with the usual thresholds
        logger.exception("off-hours provider failed for organisation %s", organisation_id)
        return False


ReviewListener = Callable[[int], None]
_review_listeners: dict[str, ReviewListener] = {}


def register_review_listener(name: str, listener: ReviewListener) -> None:
    """`listener(item_id)` runs once a moderator's review that marked an item as spam, or took it
    back from spam, is committed."""
    _review_listeners[name] = listener


def item_reviewed(item_id: int) -> None:
    for name, listener in list(_review_listeners.items()):
        try:
            listener(item_id)
        except Exception:  # the review stands whatever a listener does
            logger.exception("review listener %s failed for item %s", name, item_id)
