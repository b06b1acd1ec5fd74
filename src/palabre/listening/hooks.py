"""Hooks through which higher floors hear of listening events (listening never imports them).

Publishing registers a crisis listener to pause promotional posts while crisis mode is on:

    register_crisis_listener("publishing", pause_promotions)

`listener(organisation, *, active, actor)` is called once the switch has committed; `active` is
the new state, `actor` the `palabre.orgs.services.Actor` who switched it. A failing listener is
logged and does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

CrisisListener = Callable[..., None]
_crisis_listeners: dict[str, CrisisListener] = {}


def register_crisis_listener(name: str, listener: CrisisListener) -> None:
    """Register (or replace, by name) a function called whenever crisis mode is switched on or off."""
    _crisis_listeners[name] = listener


def unregister_crisis_listener(name: str) -> None:
    _crisis_listeners.pop(name, None)


def crisis_listeners() -> list[tuple[str, CrisisListener]]:
    return list(_crisis_listeners.items())


def notify_crisis_listeners(organisation: Any, *, active: bool, actor: Any) -> list[str]:
    """Call every listener; returns the names of those that failed (already logged)."""
    failed = []
    for name, listener in crisis_listeners():
        try:
            listener(organisation, active=active, actor=actor)
        except Exception:  # one broken listener must not keep the others from pausing posts
            logger.exception("Crisis listener %s failed", name)
            failed.append(name)
    return failed
