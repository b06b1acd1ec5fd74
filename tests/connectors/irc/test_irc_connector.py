"""IRC through the `irc` library against a real IRC server (Debian's ngircd, started on loopback by
conftest.py): the bot joins, stores what is said, answers once, bans, reconnects after being
killed, keeps to its flood limit; the connection check says when it is not a channel operator."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from palabre.connectors import irc as irc_connector
from palabre.connectors.base import Capability, PermissionMissing, TokenExpired
from palabre.connectors.irc import (
    IrcConnector,
    IrcSession,
    IrcSettings,
    TokenBucket,
    bot_step,
    moderation_lines,
    split_text,
)
from palabre.connectors.models import ActionStatus, OutboundAction
from palabre.connectors.registry import connector_class_for
from palabre.connectors.services import queue_ban_author, queue_publication, queue_reply
from palabre.conversations.models import Item
from palabre.orgs.services import Actor

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
_names = itertools.count(1)


def _fixed_now():
    ticks = itertools.count()
    return lambda: NOW + timedelta(seconds=next(ticks))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _settings(server, channel: str, nick: str, **more) -> IrcSettings:
    values = {"server": server.host, "port": server.port, "tls": False, "nick": nick, "channel": channel}
    values.update(more)
    return IrcSettings(**values)


def _people(server, channel: str, *nicks: str, also: IrcSession | None = None) -> list[IrcSession]:
    """People in the channel: other clients of the same server, joined together (the server makes
    each wait a second after registering), while `also` keeps stepping."""
    people = [
        IrcSession(_settings(server, channel, nick, burst=50, rate=50.0), now=_fixed_now()) for nick in nicks
    ]
    for person in people:
        person.connect()
    assert _both(people + ([also] if also else []), lambda: all(person.joined for person in people))
    return people


def _person(server, channel: str, nick: str) -> IrcSession:
    return _people(server, channel, nick)[0]


def _both(sessions, done, seconds=10.0) -> bool:
    """Step every session until `done()`."""
    first, *others = sessions

    def turn() -> bool:
        for other in others:
            other.step(0.0)
        return done()

    return first.run_until(turn, seconds=seconds)


@pytest.fixture
def room():
    return f"#maison-{next(_names)}"


@pytest.fixture
def irc_channel(org, make_channel, ngircd, allow_loopback, room):
    return make_channel(
        org,
        "irc",
        handle=room,
        name="IRC Maison Dupont",
        credentials={
            "server": ngircd.host,
            "port": ngircd.port,
            "tls": "no",
            "nick": f"dupont{next(_names)}",
            "irc_channel": room,
        },
    )


@pytest.fixture
def bot(irc_channel):
    session = IrcSession(IrcSettings.of(irc_channel), now=_fixed_now(), reconnect_delays=(0.0,))
    session.connect()
    assert session.run_until(lambda: session.joined and session.operator, seconds=10)
    irc_connector.attach(irc_channel.pk, session)
    yield session
    irc_connector.attach(irc_channel.pk, None)
    session.close()


def test_registered_with_honest_capabilities():
    assert connector_class_for("irc") is IrcConnector
    capabilities = IrcConnector.capabilities
    assert Capability.BAN_AUTHOR in capabilities and Capability.REPLY in capabilities
    # Nothing said on IRC can be removed.
    assert Capability.HIDE not in capabilities and Capability.DELETE not in capabilities


def test_token_bucket_lets_a_burst_then_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=0.5, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait() == pytest.approx(2.0)
    clock.now += 2.0
    assert bucket.take() and not bucket.take()
    clock.now += 100.0  # never more than the burst saved up
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_ban_modes_and_long_texts():
    base = IrcSettings(server="irc.example.org", port=6697, tls=True, nick="bot", channel="#brand")
    assert moderation_lines(base, "troll", "bye") == ["MODE #brand +b troll!*@*", "KICK #brand troll :bye"]
    quiet = IrcSettings(**{**base.__dict__, "ban_mode": "quiet", "quiet_prefix": "m:"})
    assert moderation_lines(quiet, "troll", "bye") == ["MODE #brand +q m:troll!*@*"]
    kick = IrcSettings(**{**base.__dict__, "ban_mode": "kick"})
    assert moderation_lines(kick, "troll", "bye") == ["KICK #brand troll :bye"]
    lines = split_text("première ligne\n" + "mot " * 200)
    assert lines[0] == "première ligne" and all(len(line.encode()) <= 400 for line in lines)
    assert " ".join(lines[1:]).split() == ["mot"] * 200


def test_the_bot_stores_what_is_said_with_threads(irc_channel, bot, ngircd, room):
    camille, lea = _people(ngircd, room, "camille", "lea", also=bot)
    camille.say("Bonjour, ma commande n'est toujours pas arrivée")
    assert _both([camille, lea], lambda: camille.sent(1))
    lea.say("camille: pareil pour moi depuis lundi")
    stored = []
    assert _both(
        [bot, camille, lea],
        lambda: (
            stored.extend(bot_step(irc_channel, bot, timeout=0.0)["stored"] for _ in [0])
            or Item.objects.filter(channel=irc_channel).count() == 2
        ),
    )
    question = Item.objects.get(channel=irc_channel, author__handle="camille")
    answer = Item.objects.get(channel=irc_channel, author__handle="lea")
    assert question.text == "Bonjour, ma commande n'est toujours pas arrivée"
    assert question.created_at == NOW
    assert answer.parent_id == question.pk
    camille.close()
    lea.close()


def test_a_reply_is_said_once_by_the_bot(irc_channel, bot, ngircd, room, django_capture_on_commit_callbacks):
    camille = _person(ngircd, room, "camille")
    camille.say("Vous livrez à Lyon ?")
    assert _both([camille, bot], lambda: bool(bot._buffer))
    bot_step(irc_channel, bot, timeout=0.0)
    item = Item.objects.get(channel=irc_channel)
    action = queue_reply(actor=Actor.palabre(irc_channel.organisation), item=item, text="oui, sous 48 h.")
    assert _both([bot, camille], lambda: bot_step(irc_channel, bot, timeout=0.0)["delivered"] > 0)
    heard = []
    assert _both([camille, bot], lambda: heard.extend(camille.drain()) or bool(heard))
    assert [one.text for one in heard] == ["camille: oui, sous 48 h."]
    assert heard[0].author.handle == bot.nick
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT
    # Another turn of the bot sends nothing again.
    assert bot_step(irc_channel, bot, timeout=0.05)["delivered"] == 0
    _both([camille], lambda: False, seconds=0.3)
    assert camille.drain() == []
    camille.close()


def test_ban_author_bans_and_kicks(irc_channel, bot, ngircd, room):
    troll = _person(ngircd, room, "troll")
    troll.say("achetez mes montres pas chères")
    assert _both([troll, bot], lambda: bool(bot._buffer))
    bot_step(irc_channel, bot, timeout=0.0)
    item = Item.objects.get(channel=irc_channel)
    action = queue_ban_author(actor=Actor.palabre(irc_channel.organisation), item=item)
    assert _both([bot, troll], lambda: bot_step(irc_channel, bot, timeout=0.0)["delivered"] > 0)
    # Kicked, the person's client joins again at once: the ban keeps it out.
    assert _both([troll, bot], lambda: troll.failure is not None)
    assert isinstance(troll.failure, PermissionMissing) and "cannot join" in str(troll.failure)
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT
    troll.close()


def test_the_bot_reconnects_and_joins_again_after_a_kill(irc_channel, bot, ngircd, room):
    warden = _person(ngircd, room, "warden")
    warden.send("OPER {} {}".format(*ngircd.operator), f"KILL {bot.nick} :testing reconnection")
    assert _both([warden, bot], lambda: not bot.joined)
    assert _both([bot, warden], lambda: bot.joined and bot.connects == 2)
    warden.say("toujours là ?")
    assert _both([warden, bot], lambda: bool(bot._buffer))
    warden.close()


def test_flood_limit_paces_the_lines(ngircd, allow_loopback, room):
    clock = FakeClock()
    speaker = IrcSession(_settings(ngircd, room, "bavard", burst=2, rate=1.0), clock=clock)
    speaker.connect()
    assert speaker.run_until(lambda: speaker.joined, seconds=10)
    listener = _people(ngircd, room, "oreille", also=speaker)[0]
    mark = speaker.say("un\ndeux\ntrois")
    heard = []
    assert _both([listener, speaker], lambda: heard.extend(listener.drain()) or len(heard) == 2)
    _both([listener, speaker], lambda: False, seconds=0.3)
    heard.extend(listener.drain())
    assert [one.text for one in heard] == ["un", "deux"] and not speaker.sent(mark)
    clock.now += 1.0
    assert _both([listener, speaker], lambda: heard.extend(listener.drain()) or len(heard) == 3)
    assert heard[-1].text == "trois"
    speaker.close()
    listener.close()


def test_outside_the_bot_a_short_session_publishes(irc_channel, ngircd, room):
    camille = _person(ngircd, room, "camille")
    OutboundAction.objects.all().delete()
    # The bot runs in another process: its heartbeat is recent, its session is not here.
    irc_connector.write_heartbeat(irc_channel, timezone.now())
    action = queue_publication(
        actor=Actor.palabre(irc_channel.organisation),
        channel=irc_channel,
        text="Soldes ce week-end !",
        idempotency_key="soldes-1",
    )
    from palabre.connectors.services.delivery import deliver

    deliver(action.pk)
    heard = []
    assert _both([camille], lambda: heard.extend(camille.drain()) or bool(heard))
    assert heard[0].text == "Soldes ce week-end !"
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT
    camille.close()


def test_health_says_when_the_bot_is_not_an_operator(irc_channel, ngircd, room):
    first = _person(ngircd, room, "fondatrice")  # the first to join is the channel's operator
    with pytest.raises(PermissionMissing, match="not a channel operator"):
        IrcConnector().health(irc_channel)
    first.close()


def test_health_of_an_operator_bot(irc_channel):
    info = IrcConnector().health(irc_channel)
    assert info.permissions_checked == "verified" and irc_channel.handle in info.account


def test_a_refused_join_is_permission_missing(ngircd, allow_loopback, room):
    # ngircd without a server password accepts any: a channel key it refuses stands for the refusal.
    session = IrcSession(_settings(ngircd, room + "-locked", "gardien"))
    session.connect()
    assert session.run_until(lambda: session.joined, seconds=10)
    session.send(f"MODE {room}-locked +k sesame")
    assert session.run_until(lambda: session.sent(1), seconds=5)
    intruder = IrcSession(_settings(ngircd, room + "-locked", "intrus", channel_key="faux"))
    intruder.connect()
    with pytest.raises(PermissionMissing, match="cannot join"):
        _both([intruder, session], lambda: False, seconds=5)
    session.close()
    intruder.close()


def test_missing_settings_are_token_expired(org, make_channel):
    channel = make_channel(org, "irc", handle="#vide", name="IRC vide")
    with pytest.raises(TokenExpired):
        IrcSettings.of(channel)


def test_run_bot_keeps_the_bot_until_stopped(irc_channel, ngircd, room):
    session = IrcSession(IrcSettings.of(irc_channel), now=_fixed_now(), reconnect_delays=(0.0,))
    people: list[IrcSession] = []

    def stop() -> bool:
        if session.joined and not people:
            people.extend(_people(ngircd, room, "camille", also=session))
            people[0].say("Le magasin ouvre dimanche ?")
        for person in people:
            person.step(0.0)
        return Item.objects.filter(channel=irc_channel).exists()

    irc_connector.run_bot(irc_channel, stop=stop, session=session)
    assert Item.objects.get(channel=irc_channel).text == "Le magasin ouvre dimanche ?"
    assert irc_connector.live_session(irc_channel.pk) is None and not session.connection.is_connected()
    people[0].close()


def test_the_bot_sets_the_topic(irc_channel, bot, ngircd, room):
    camille = _person(ngircd, room, "camille")
    bot.set_topic("Soldes jusqu'à dimanche - support du lundi au vendredi")
    assert _both([camille, bot], lambda: camille.topic.startswith("Soldes"))
    camille.close()


def test_a_server_password_is_sent_and_a_wrong_one_is_token_expired(
    ngircd_with_password, allow_loopback, room
):
    good = IrcSession(_settings(ngircd_with_password, room, "invite", server_password="server-secret"))
    good.connect()
    assert good.run_until(lambda: good.joined, seconds=10)
    good.close()
    wrong = IrcSession(_settings(ngircd_with_password, room, "intrus", server_password="faux"))
    wrong.connect()
    with pytest.raises(TokenExpired, match="login was refused"):
        wrong.run_until(lambda: wrong.joined, seconds=10)
    wrong.close()


def test_health_while_the_bot_runs_elsewhere_looks_at_the_bots_nick(irc_channel, bot):
    # The bot holds the nick in another process (here: not attached to this one): the check comes
    # in as nick_ and finds the bot's nick among the channel's operators.
    irc_connector.attach(irc_channel.pk, None)
    info = IrcConnector().health(irc_channel)
    assert info.permissions_checked == "verified"
