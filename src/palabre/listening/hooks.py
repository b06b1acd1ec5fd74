"""How higher floors hear of listening events (listening never imports them): Django signals.

`crisis_mode_changed` is sent once a switch of crisis mode has committed, with `organisation`,
`active` (the new state) and `actor` (the `palabre.orgs.services.Actor` who switched it).
Publishing connects to it to pause promotional posts while crisis mode is on. A failing receiver
is logged and does not stop the others.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

logger = logging.getLogger(__name__)

crisis_mode_changed = Signal()


def notify_crisis_listeners(organisation: Any, *, active: bool, actor: Any) -> list[str]:
    """Send `crisis_mode_changed`; returns the names of the receivers that failed (already logged)."""
    failed = []
    answers = crisis_mode_changed.send_robust(
        sender=type(organisation), organisation=organisation, active=active, actor=actor
    )
    for receiver, error in answers:
        if isinstance(error, Exception):  # one broken receiver must not keep the others from pausing posts
            name = getattr(receiver, "__qualname__", repr(receiver))
            logger.error(
                "Crisis receiver %s failed", name, exc_info=(type(error), error, error.__traceback__)
            )
            failed.append(name)
    return failed
