"""What moderation asks of, and tells, the apps above it without importing them (DESIGN.md's
floors).

- Asks: whether a moment is outside an organisation's business hours (the `is_off_hours` hook of
  `palabre.hooks`, answered by the inbox). Without an answer no moment is out of hours and the
  night policy never applies.
- Tells (Django signals): `spam_review_committed` once a moderator's review that marked an item as
  spam, or took it back from spam, is committed (the inbox refreshes the thread);
  `decisions_recorded` after a batch of decisions is written at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.dispatch import Signal

from palabre import hooks

logger = logging.getLogger(__name__)

# Sent with `decisions` (ModerationDecision rows) after a batch of them is written at once: a bulk
# write sends no post_save (the metrics count decisions from both).
decisions_recorded = Signal()

# Sent with `item_id` once a moderator's review that marked an item as spam, or took it back from
# spam, is committed. A failing receiver is logged; the review stands whatever it does.
spam_review_committed = Signal()


def is_off_hours(organisation_id: int, moment: datetime) -> bool:
    try:
        return bool(hooks.hook.is_off_hours(organisation_id=organisation_id, moment=moment))
    except Exception:  # a broken calendar must not stop moderation: decide with the usual thresholds
        logger.exception("off-hours hook failed for organisation %s", organisation_id)
        return False


def item_reviewed(item_id: int) -> None:
    for receiver, error in spam_review_committed.send_robust(sender=None, item_id=item_id):
        if isinstance(error, Exception):
            logger.error(
                "review receiver %r failed for item %s",
                receiver,
                item_id,
                exc_info=(type(error), error, error.__traceback__),
            )
