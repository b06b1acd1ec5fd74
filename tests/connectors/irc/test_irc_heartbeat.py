"""The IRC bot's heartbeat: every process reads it from the database, so a channel whose bot is
down reads as not connected (with the command that starts it), a worker's pull fails instead of
passing for a quiet channel, and the outbox queues nothing there. No IRC server needed: the bot's
session here never connects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import formats, timezone, translation

from palabre.connectors import services
from palabre.connectors.base import TransientError
from palabre.connectors.connection import connection_of
from palabre.connectors.irc import (
    HEARTBEAT_SECONDS,
    IrcConnector,
    IrcSession,
    IrcSettings,
    bot_step,
    write_heartbeat,
)
from palabre.connectors.models import ChannelSync, OutboundAction
from palabre.connectors.queries import health_of
from palabre.connectors.sync import pull_channel

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
STALE_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)


@pytest.fixture
def channel(org, make_channel, allow_loopback):
    return make_channel(
        org,
        "irc",
        handle="#maison",
        name="IRC Maison Dupont",
        credentials={
            "server": "127.0.0.1",
            "port": 6667,
            "tls": "no",
            "nick": "dupont",
            "irc_channel": "#maison",
        },
    )


def test_a_channel_whose_bot_never_ran_is_not_connected(channel):
    connection = connection_of(channel)
    assert not connection.connected and connection.reason == "bot_not_running" and connection.since is None
    with translation.override("en"):
        assert connection.next_step == (
            f"The channel's bot is not running: start it with “palabre irc-bot --channel {channel.pk}”."
        )
    with translation.override("fr"):
        assert connection.next_step == (
            f"Le robot du canal ne tourne pas\u202f: lancez-le avec «\u202fpalabre irc-bot --channel {channel.pk}\u202f»."
        )


def test_the_channel_is_connected_while_the_heartbeat_is_recent(channel):
    with time_machine.travel(T0, tick=False) as traveller:
        write_heartbeat(channel, timezone.now())
        assert connection_of(channel).connected
        traveller.shift(STALE_AFTER)
        assert connection_of(channel).connected
        traveller.shift(timedelta(seconds=1))
        connection = connection_of(channel)
    assert connection.reason == "bot_not_running" and connection.since == T0
    with translation.override("en"):
        shown = formats.date_format(timezone.localtime(T0), "DATETIME_FORMAT")
        assert connection.next_step == (
            f"The channel's bot has not been running since {shown}: "
            f"start it with “palabre irc-bot --channel {channel.pk}”."
        )


def test_the_bot_beats_every_interval_not_every_turn(channel):
    ticks = [0.0]
    session = IrcSession(IrcSettings.of(channel), clock=lambda: ticks[0])  # never connected here
    with time_machine.travel(T0, tick=False) as traveller:
        bot_step(channel, session, timeout=0.0)
        assert ChannelSync.objects.get(channel=channel).heartbeat_at == T0
        traveller.shift(10)
        ticks[0] += 10
        bot_step(channel, session, timeout=0.0)
        assert ChannelSync.objects.get(channel=channel).heartbeat_at == T0
        traveller.shift(HEARTBEAT_SECONDS)
        ticks[0] += HEARTBEAT_SECONDS
        bot_step(channel, session, timeout=0.0)
        assert ChannelSync.objects.get(channel=channel).heartbeat_at == T0 + timedelta(
            seconds=10 + HEARTBEAT_SECONDS
        )


def test_a_worker_pull_without_a_running_bot_fails_and_the_health_says_so(
    channel, owner_actor, allow_loopback
):
    with time_machine.travel(T0, tick=False) as traveller:
        write_heartbeat(channel, timezone.now())
        # The bot runs in another process: nothing to drain here, and that is a success.
        assert IrcConnector().pull(channel, "c").items == []
        traveller.shift(STALE_AFTER + timedelta(seconds=1))
        with pytest.raises(
            TransientError, match=f"bot is not running .*palabre irc-bot --channel {channel.pk}"
        ):
            IrcConnector().pull(channel, "c")
        pull_channel(channel.pk, force=True)
        sync = ChannelSync.objects.get(channel=channel)
        assert sync.consecutive_failures == 1 and sync.last_success_at is None
        assert "bot is not running" in sync.last_error
        health = health_of(owner_actor, channel)
        assert health.connection.reason == "bot_not_running" and health.connection.since == T0


def test_nothing_is_queued_while_the_bot_is_down(channel, owner_actor):
    with time_machine.travel(T0, tick=False) as traveller:
        write_heartbeat(channel, timezone.now())
        services.queue_publication(
            actor=owner_actor, channel=channel, text="Soldes", idempotency_key="soldes-1"
        )
        traveller.shift(STALE_AFTER + timedelta(seconds=1))
        with translation.override("en"), pytest.raises(ValidationError) as refused:
            services.queue_publication(
                actor=owner_actor, channel=channel, text="Soldes", idempotency_key="soldes-2"
            )
    [message] = refused.value.message_dict["channel"]
    assert message.startswith("This channel is not connected. The channel's bot has not been running since ")
    assert f"palabre irc-bot --channel {channel.pk}" in message
    assert OutboundAction.objects.count() == 1


def test_the_health_and_channel_pages_say_since_when_and_how_to_start_it(channel, owner, client):
    client.force_login(owner)
    with time_machine.travel(T0, tick=False) as traveller:
        write_heartbeat(channel, timezone.now())
        page = client.get(reverse("connectors:channel", args=[channel.pk]), HTTP_ACCEPT_LANGUAGE="en")
        assert 'data-connection="bot_not_running"' not in page.content.decode()
        traveller.shift(STALE_AFTER + timedelta(seconds=1))
        for url in (reverse("connectors:health"), reverse("connectors:channel", args=[channel.pk])):
            page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
            assert 'data-connection="bot_not_running"' in page
            assert f"palabre irc-bot --channel {channel.pk}" in page and "has not been running since" in page


def test_a_server_that_never_ends_a_line_cannot_grow_the_bots_memory(channel):
    """The irc library keeps what the server sent until a newline comes: a server (the one an
    organisation names) sending a line without end grew the bot without end. IRC lines are at
    most 8,191 bytes with tags: beyond that, the unfinished line is dropped."""
    import socket
    import threading

    from palabre.connectors.irc import session as irc_session

    listener = socket.create_server(("127.0.0.1", 0))
    sent = threading.Event()

    def serve():
        peer, _address = listener.accept()
        with peer:
            peer.sendall(b"x" * (256 * 1024))
            sent.set()
            peer.recv(1)  # held open until the bot leaves

    threading.Thread(target=serve, daemon=True).start()
    settings = IrcSettings.of(channel)
    settings = type(settings)(**{**settings.__dict__, "port": listener.getsockname()[1]})
    bot = IrcSession(settings)
    try:
        bot.connect()
        bot.run_until(sent.is_set, seconds=10)
        for _ in range(5):
            bot.step(0)
        assert len(bot.connection.buffer) <= irc_session.MAX_INCOMING_LINE
    finally:
        bot.connection.close()
        listener.close()
