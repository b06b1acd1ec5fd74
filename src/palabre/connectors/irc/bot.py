"""The long-lived bot of an IRC channel (`palabre irc-bot --channel ID`): its session, known to
the connector in the bot's own process, its heartbeat, the loop that reconnects with a growing delay
and delivers the channel's queued actions."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from palabre.connectors.base import TransientError
from palabre.connectors.irc.session import IrcSession, IrcSettings

# How often the bot says it is running (seconds); three missed beats and it is not.
HEARTBEAT_SECONDS = 30.0


# The live session of each channel the bot runs in this process.
_live: dict[int, IrcSession] = {}


_live_lock = threading.Lock()


def attach(channel_id: int, session: IrcSession | None) -> None:
    with _live_lock:
        if session is None:
            _live.pop(channel_id, None)
        else:
            _live[channel_id] = session


def live_session(channel_id: int) -> IrcSession | None:
    with _live_lock:
        return _live.get(channel_id)


def write_heartbeat(channel, now: datetime) -> None:
    """Say, for every process to read, that the channel's bot is running at `now`."""
    from palabre.connectors.models import ChannelSync
    from palabre.connectors.services.pacing import sync_for

    ChannelSync.objects.filter(pk=sync_for(channel).pk).update(heartbeat_at=now)


def bot_step(channel, session: IrcSession, *, timeout: float = 0.2) -> dict[str, int]:
    """One turn of the bot: read the server, store what was said through the pipeline, deliver the
    channel's due outbound actions through the live session."""
    from django.db.models import Q

    from palabre.connectors.models import ActionStatus, OutboundAction
    from palabre.connectors.services.delivery import deliver
    from palabre.conversations.pipeline import ingest_items

    session.step(timeout)
    if session.last_beat is None or session.clock() - session.last_beat >= HEARTBEAT_SECONDS:
        write_heartbeat(channel, timezone.now())  # wall time, read by other processes
        session.last_beat = session.clock()
    items = session.drain()
    if items:
        ingest_items(channel=channel, incoming=items)
    delivered = 0
    if session.joined:
        due = OutboundAction.objects.filter(channel=channel, status=ActionStatus.QUEUED).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now())
        )
        for action_id in due.order_by("pk").values_list("pk", flat=True)[:20]:
            deliver(action_id)
            delivered += 1
    return {"stored": len(items), "delivered": delivered}


def run_bot(channel, *, stop: Callable[[], bool] = lambda: False, session: IrcSession | None = None) -> None:
    """Keep the channel's bot connected until `stop()`: the `palabre irc-bot` command."""
    session = session or IrcSession(IrcSettings.of(channel))
    attach(channel.pk, session)
    try:
        with contextlib.suppress(TransientError):  # tried again by step() after a delay
            session.connect()
        while not stop():
            if session.failure is not None:
                raise session.failure
            bot_step(channel, session)
    finally:
        attach(channel.pk, None)
        session.close("Palabre")
