"""IRC, a channel moderated by a bot, through the `irc` library (jaraco/irc on PyPI).

IRC keeps no history and has no message ids: what is said while nobody listens is gone. So the
connector is a long-lived bot, `palabre irc-bot --channel ID`: it keeps one connection to the
server (TLS if asked, SASL PLAIN or a NickServ password), joins the channel, stores what is said
through the ingestion pipeline as it comes, reconnects with a growing delay when the connection
drops, and delivers the channel's queued outbound actions itself.

- Each message gets an id made of the time it was heard, its author and the bot's sequence number;
  IRC has no threads: a reply is a message starting with the person's nick ("nick: text"), stored
  as the child of the message it answers.
- Out: `reply` and `publish` say a line in the channel; `ban_author` bans (`MODE +b nick!*@*` then
  KICK), quiets (`MODE +q nick!*@*`, as Libera's Solanum and Charybdis understand it; the mask prefix
  is a setting: `m:` on InspIRCd) or kicks, per the channel's `ban_mode` setting. The bot must be a
  channel operator. Messages cannot be removed from IRC: HIDE and DELETE are not declared.
- Flood limits: every line goes through a token bucket (`burst` lines at once, then `rate` lines
  per second), so the server never disconnects the bot for flooding.
- In the bot's process, `reply`/`publish`/`ban_author` hand their lines to the live session; in
  any other process (the worker), they open a short session of their own (connect, join, send,
  quit) under the bot's nick or, while the bot holds it, the nick followed by "_".
- IRC never says a line was refused after it was sent: a line written to the socket is delivered.
- The bot writes a heartbeat (`ChannelSync.heartbeat_at`) every `HEARTBEAT_SECONDS`, which every
  process reads: without a recent one the channel is not connected (`connectors.connection`), and a
  worker's pull fails instead of returning nothing as if all were quiet.
"""

from __future__ import annotations

import contextlib
import itertools
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import irc.client
import irc.connection
import irc.modes
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palabre.connectors import outbound
from palabre.connectors.base import (
    Capability,
    ChannelHealthInfo,
    Connector,
    CredentialField,
    Delivered,
    FieldKind,
    Media,
    PermanentError,
    PermissionMissing,
    PullResult,
    TokenExpired,
    TransientError,
)
from palabre.conversations.services import IncomingAuthor, IncomingItem

DEFAULT_PORT = 6697
# Most networks disconnect a client sending more than a few lines at once: 4 at once, then one
# every two seconds (the RFC 1459 server's own pace).
DEFAULT_BURST = 4
DEFAULT_RATE = 0.5
# Waits between reconnection attempts, the last one repeated.
RECONNECT_DELAYS = (2.0, 5.0, 15.0, 30.0, 60.0, 120.0)
# How long a delivery outside the bot waits for the server (connect, register, join, send).
SHORT_SESSION_SECONDS = 30.0
MAX_LINE = 400  # bytes of text per PRIVMSG, leaving room for the prefix within IRC's 512
BAN_MODES = ("ban", "quiet", "kick")
# How often the bot says it is running (seconds); three missed beats and it is not.
HEARTBEAT_SECONDS = 30.0


class TokenBucket:
    """`burst` lines at once, then `rate` lines per second. `clock` is monotonic seconds."""

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("A token bucket needs a positive rate and a burst of at least one.")
        self.rate, self.burst, self.clock = float(rate), int(burst), clock
        self.tokens = float(burst)
        self.stamp = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self) -> bool:
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait(self) -> float:
        """Seconds until the next line may go."""
        self._refill()
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


@dataclass(frozen=True)
class IrcSettings:
    server: str
    port: int
    tls: bool
    nick: str
    channel: str
    channel_key: str = ""
    server_password: str = ""
    sasl_password: str = ""
    nickserv_password: str = ""
    ban_mode: str = "ban"
    quiet_prefix: str = ""
    rate: float = DEFAULT_RATE
    burst: int = DEFAULT_BURST

    @classmethod
    def of(cls, channel) -> IrcSettings:
        credentials = channel.read_credentials() if channel.has_credentials else {}

        def value(name: str, default: Any = "") -> Any:
            found = credentials.get(name)
            if found in (None, ""):
                found = (channel.options or {}).get(name)
            return default if found in (None, "") else found

        server, nick, name = value("server"), value("nick"), value("irc_channel") or channel.handle
        if not server or not nick or not name:
            raise TokenExpired("The channel has no IRC server, nick or channel name.")
        name = str(name) if str(name)[:1] in "#&+!" else f"#{name}"
        ban_mode = str(value("ban_mode", "ban"))
        if ban_mode not in BAN_MODES:
            raise PermanentError(f"The IRC ban mode {ban_mode!r} is not one of {', '.join(BAN_MODES)}.")
        try:
            return cls(
                server=str(server),
                port=int(value("port", DEFAULT_PORT)),
                tls=str(value("tls", "yes")).lower() not in ("no", "false", "0", "off"),
                nick=str(nick),
                channel=name,
                channel_key=str(value("channel_key")),
                server_password=str(value("server_password")),
                sasl_password=str(value("sasl_password")),
                nickserv_password=str(value("nickserv_password")),
                ban_mode=ban_mode,
                quiet_prefix=str(value("quiet_prefix")),
                rate=float(value("rate", DEFAULT_RATE)),
                burst=int(value("burst", DEFAULT_BURST)),
            )
        except (TypeError, ValueError) as error:
            raise PermanentError(f"An IRC setting is not a number: {error}") from error


def moderation_lines(settings: IrcSettings, nick: str, reason: str) -> list[str]:
    """The raw lines `ban_author` sends for `nick`, per the channel's ban mode."""
    mask = f"{nick}!*@*"
    kick = f"KICK {settings.channel} {nick} :{reason}"
    if settings.ban_mode == "kick":
        return [kick]
    if settings.ban_mode == "quiet":
        return [f"MODE {settings.channel} +q {settings.quiet_prefix}{mask}"]
    return [f"MODE {settings.channel} +b {mask}", kick]


class IrcSession:
    """One connection to the server, joined to the channel: what is said is buffered as items
    (`drain`), lines to send wait in a queue paced by a token bucket. Single-threaded: call `step`
    in a loop (the bot command does)."""

    def __init__(
        self,
        settings: IrcSettings,
        *,
        now: Callable[[], datetime] = timezone.now,
        clock: Callable[[], float] = time.monotonic,
        reconnect_delays: Sequence[float] = RECONNECT_DELAYS,
        alternative_nick: bool = False,
    ) -> None:
        self.settings, self.now, self.clock = settings, now, clock
        self.bucket = TokenBucket(rate=settings.rate, burst=settings.burst, clock=clock)
        self.reconnect_delays = tuple(reconnect_delays) or (0.0,)
        self.reactor = irc.client.Reactor()
        self.connection = self.reactor.server()
        self.nick = settings.nick + ("_" if alternative_nick else "")
        self.joined = False
        self.registered = False
        self.failure: Exception | None = None
        self.connects = 0
        self.reconnect_at: float | None = None
        self._failed_attempts = 0
        # When the bot last wrote its heartbeat (monotonic seconds).
        self.last_beat: float | None = None
        self._buffer: list[IncomingItem] = []
        self._queue: deque[str] = deque()
        self._sent = 0
        self._sequence = itertools.count(1)
        self._last_by_nick: dict[str, str] = {}
        self.operator = False
        # The channel's names list came after the join: `operator` is known.
        self.names_known = False
        # The channel's operators by nick, from its names list.
        self.channel_operators: set[str] = set()
        self.topic = ""
        for event, handler in (
            ("welcome", self._on_welcome),
            ("join", self._on_join),
            ("pubmsg", self._on_pubmsg),
            ("pubnotice", self._on_pubmsg),
            ("disconnect", self._on_disconnect),
            ("nicknameinuse", self._on_nick_in_use),
            ("bannedfromchan", self._on_refused),
            ("badchannelkey", self._on_refused),
            ("inviteonlychan", self._on_refused),
            ("channelisfull", self._on_refused),
            ("passwdmismatch", self._on_bad_login),
            ("error", self._on_error),
            ("login_failed", self._on_bad_login),
            ("saslfail", self._on_bad_login),
            ("namreply", self._on_names),
            ("endofnames", self._on_end_of_names),
            ("mode", self._on_mode),
            ("topic", self._on_topic),
            ("currenttopic", self._on_topic),
            ("kick", self._on_kick),
        ):
            self.connection.add_global_handler(event, handler)

    # --- the connection -------------------------------------------------------------------------

    def connect(self) -> None:
        s = self.settings
        try:  # the address guard: the bot connects to the checked address, TLS checks the name
            address = outbound.check_url(f"irc://{s.server}:{s.port}")
        except outbound.AddressRefused as error:
            self.failure = PermanentError(str(error))
            raise self.failure from error
        except httpx.HTTPError as error:  # the name does not resolve (yet)
            self._schedule_reconnect()
            raise TransientError(f"IRC {s.server}: {error}") from error
        if s.tls:
            context = ssl.create_default_context()
            factory = irc.connection.Factory(
                wrapper=lambda sock: context.wrap_socket(sock, server_hostname=s.server)
            )
        else:
            factory = irc.connection.Factory()
        self.joined = self.registered = False
        self.connects += 1
        try:
            self.connection.connect(
                address,
                s.port,
                self.nick,
                password=s.sasl_password or s.server_password or None,
                username=s.nick,
                ircname="Palabre",
                connect_factory=factory,
                sasl_login=s.nick if s.sasl_password else None,
            )
        except irc.client.ServerConnectionError as error:
            self._schedule_reconnect()
            raise TransientError(f"IRC {s.server}:{s.port}: {error}") from error

    def close(self, message: str = "") -> None:
        self.reconnect_at = None
        if self.connection.is_connected():
            self.connection.quit(message)
            self.connection.disconnect(message)

    def _schedule_reconnect(self) -> None:
        delay = self.reconnect_delays[min(self._failed_attempts, len(self.reconnect_delays) - 1)]
        self._failed_attempts += 1
        self.reconnect_at = self.clock() + delay

    def step(self, timeout: float = 0.2) -> None:
        """Read what the server sent (waiting at most `timeout`), send what the bucket allows, and
        reconnect when the time has come."""
        if not self.connection.is_connected():
            if self.reconnect_at is not None and self.clock() >= self.reconnect_at and self.failure is None:
                self.reconnect_at = None
                try:
                    self.connect()
                except TransientError:
                    return
            else:
                return
        self.reactor.process_once(timeout)
        while self._queue and self.joined and self.connection.is_connected() and self.bucket.take():
            self.connection.send_raw(self._queue.popleft())
            self._sent += 1

    def run_until(self, done: Callable[[], bool], *, seconds: float) -> bool:
        """Step until `done()` or `seconds` passed (measured on the monotonic clock)."""
        deadline = time.monotonic() + seconds
        while not done():
            if self.failure is not None:
                raise self.failure
            if time.monotonic() >= deadline:
                return False
            self.step(0.05)
        return True

    # --- what the bot does --------------------------------------------------------------------

    def send(self, *lines: str) -> int:
        """Queue raw lines; returns the count of lines sent once these are on the socket."""
        for line in lines:
            self._queue.append(line.replace("\r", " ").replace("\n", " "))
        return self._sent + len(self._queue)

    def say(self, text: str) -> int:
        target = self.settings.channel
        mark = 0
        for line in split_text(text):
            mark = self.send(f"PRIVMSG {target} :{line}")
        return mark

    def kick(self, nick: str, reason: str = "") -> int:
        return self.send(f"KICK {self.settings.channel} {nick} :{reason}")

    def ban(self, nick: str, reason: str = "") -> int:
        return self.send(*moderation_lines(self.settings, nick, reason))

    def set_topic(self, text: str) -> int:
        return self.send(f"TOPIC {self.settings.channel} :{text}")

    def sent(self, mark: int) -> bool:
        return self._sent >= mark

    def drain(self) -> list[IncomingItem]:
        items, self._buffer = self._buffer, []
        return items

    # --- events ---------------------------------------------------------------------------------

    def _on_welcome(self, connection, event) -> None:
        s = self.settings
        self.registered = True
        if s.nickserv_password and not s.sasl_password:
            connection.privmsg("NickServ", f"IDENTIFY {s.nick} {s.nickserv_password}")
        connection.join(s.channel, s.channel_key)

    def _on_join(self, connection, event) -> None:
        if irc.client.NickMask(event.source).nick == connection.get_nickname():
            self.joined, self.names_known = True, False
            self._failed_attempts = 0

    def _on_names(self, connection, event) -> None:
        names = event.arguments[-1].split() if event.arguments else []
        own = connection.get_nickname()
        self.channel_operators |= {name.lstrip("~&@%+") for name in names if name[:1] in "~&@%"}
        if any(name.lstrip("~&@%+") == own and name[:1] in "~&@%" for name in names):
            self.operator = True

    def _on_end_of_names(self, connection, event) -> None:
        self.names_known = True

    def _on_mode(self, connection, event) -> None:
        modes = irc.modes.parse_channel_modes(" ".join(event.arguments))
        for sign, mode, argument in modes:
            if mode == "o" and argument == connection.get_nickname():
                self.operator = sign == "+"

    def _on_topic(self, connection, event) -> None:
        self.topic = event.arguments[-1] if event.arguments else ""

    def _on_kick(self, connection, event) -> None:
        if len(event.arguments) >= 1 and event.arguments[0] == connection.get_nickname():
            self.joined = False
            connection.join(self.settings.channel, self.settings.channel_key)

    def _on_pubmsg(self, connection, event) -> None:
        source = irc.client.NickMask(event.source)
        text = event.arguments[0] if event.arguments else ""
        created = self.now()
        external_id = f"{created.strftime('%Y%m%dT%H%M%S.%f')}-{source.nick}-{next(self._sequence)}"
        self._last_by_nick[source.nick.lower()] = external_id
        parent = ""
        addressed, sep, _rest = text.partition(":")
        if sep and addressed.strip().lower() in self._last_by_nick and " " not in addressed.strip():
            parent = self._last_by_nick[addressed.strip().lower()]
        self._buffer.append(
            IncomingItem(
                external_id=external_id,
                kind="comment" if event.type == "pubmsg" else "post",
                text=text,
                created_at=created,
                author=IncomingAuthor(handle=source.nick, display_name=source.nick),
                parent_external_id=parent if parent != external_id else "",
                raw={"nick": source.nick, "user": source.user or "", "host": source.host or ""},
            )
        )

    def _on_disconnect(self, connection, event) -> None:
        self.joined = False
        self.operator = False
        if self.failure is None:
            self._schedule_reconnect()

    def _on_nick_in_use(self, connection, event) -> None:
        self.nick = self.nick + "_"
        connection.nick(self.nick)

    def _on_refused(self, connection, event) -> None:
        reason = event.arguments[-1] if event.arguments else event.type
        self.failure = PermissionMissing(f"IRC {self.settings.channel}: the bot cannot join ({reason}).")

    def _on_error(self, connection, event) -> None:
        """The server's ERROR before it closes: before registration, about a password, it is a
        login refused (ngircd: "Access denied: Bad password?"); otherwise the reconnection waits."""
        reason = event.target or (event.arguments[-1] if event.arguments else "")
        if not self.registered and "password" in str(reason).lower():
            self.failure = TokenExpired(f"IRC {self.settings.server}: the login was refused ({reason}).")

    def _on_bad_login(self, connection, event) -> None:
        reason = event.arguments[-1] if event.arguments else event.type
        self.failure = TokenExpired(f"IRC {self.settings.server}: the login was refused ({reason}).")


def split_text(text: str) -> list[str]:
    """A text as IRC lines: one per line of the text, each cut to MAX_LINE bytes on a space."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        rest = paragraph.strip()
        while len(rest.encode()) > MAX_LINE:
            cut = rest.encode()[:MAX_LINE].decode(errors="ignore")
            head = cut.rsplit(" ", 1)[0] if " " in cut else cut
            lines.append(head)
            rest = rest[len(head) :].strip()
        if rest:
            lines.append(rest)
    return lines or [""]


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


class IrcConnector(Connector):
    platform = "irc"
    capabilities = frozenset({Capability.PULL, Capability.REPLY, Capability.PUBLISH, Capability.BAN_AUTHOR})
    # The bot stores what it hears as it comes; a pull only drains what it buffered.
    poll_interval = 60.0
    heartbeat_seconds = HEARTBEAT_SECONDS
    credential_fields = (
        CredentialField(
            "server",
            _("IRC server"),
            _("The network's server name, e.g. irc.libera.chat."),
            required=True,
        ),
        CredentialField(
            "port",
            _("Port"),
            _("6697 for TLS on most networks (the default), 6667 without."),
            kind=FieldKind.INTEGER,
        ),
        CredentialField(
            "tls",
            _("TLS"),
            _("“yes” (the default) to connect with TLS, “no” for a server that has none."),
            kind=FieldKind.CHOICE,
            choices=("yes", "no"),
        ),
        CredentialField("nick", _("Bot's nick"), _("The nick the bot registers with."), required=True),
        CredentialField(
            "irc_channel",
            _("IRC channel"),
            _("The channel to moderate, e.g. #brand (the bot must be one of its operators)."),
            required=True,
        ),
        CredentialField(
            "channel_key", _("Channel key"), _("Optional: the channel's key (+k)."), kind=FieldKind.SECRET
        ),
        CredentialField(
            "sasl_password",
            _("SASL password"),
            _("Optional: the password of the bot's registered account, sent with SASL PLAIN."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "nickserv_password",
            _("NickServ password"),
            _("Optional, where the network has no SASL: sent to NickServ with IDENTIFY."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "server_password",
            _("Server password"),
            _("Optional: the server's own password (PASS), on private servers."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "quiet_prefix",
            _("Quiet mask prefix"),
            _("Optional: what comes before nick!*@* in a quiet, e.g. “m:” on InspIRCd networks (+q m:mask)."),
        ),
        CredentialField(
            "ban_mode",
            _("Ban the author by"),
            _("“ban” (+b and kick, the default), “quiet” (+q, Libera and Solanum networks) or “kick”."),
            kind=FieldKind.CHOICE,
            choices=BAN_MODES,
        ),
    )

    def addresses(self, channel, credentials) -> list[tuple[str, str]]:
        server = credentials.get("server")
        if not server:
            return []
        return [("credentials", f"ircs://{server}:{credentials.get('port') or DEFAULT_PORT}")]

    # --- in -------------------------------------------------------------------------------------

    def pull(self, channel, cursor: str) -> PullResult:
        session = live_session(channel.pk)
        if session is None:
            # Another process runs the bot, or none does: nothing to drain here either way, but a
            # silent channel whose bot is down must not read as a successful pull.
            from palabre.connectors.connection import bot_is_running
            from palabre.connectors.models import ChannelSync

            sync = ChannelSync.objects.filter(channel=channel).first()
            if not bot_is_running(sync, self.heartbeat_seconds, timezone.now()):
                since = (
                    sync.heartbeat_at.isoformat() if sync is not None and sync.heartbeat_at else "never seen"
                )
                raise TransientError(
                    f"IRC: the channel's bot is not running (last heartbeat: {since}); "
                    f"start it with `palabre irc-bot --channel {channel.pk}`."
                )
        return PullResult(items=session.drain() if session else [], cursor=cursor)

    # --- out ------------------------------------------------------------------------------------

    def reply_text(self, in_reply_to, text: str) -> str:
        nick = (in_reply_to.raw or {}).get("nick") if in_reply_to is not None else ""
        return f"{nick}: {text}" if nick and not text.startswith(f"{nick}:") else text

    def reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        line = self.reply_text(in_reply_to, text)
        self._deliver(channel, lambda session: session.say(line))
        return Delivered(external_id=f"palabre-{idempotency_key}")

    def publish(self, channel, *, text: str, media: Sequence[Media] = (), idempotency_key: str) -> Delivered:
        if media:
            raise PermanentError("IRC carries text only: no media.")
        self._deliver(channel, lambda session: session.say(text))
        return Delivered(external_id=f"palabre-{idempotency_key}")

    def ban_author(self, channel, item) -> None:
        nick = (item.raw or {}).get("nick") or (item.author.handle if item.author_id else "")
        if not nick:
            raise PermanentError("The item does not carry its author's IRC nick.")
        reason = "Removed by the channel's moderation team."
        self._deliver(channel, lambda session: session.ban(nick, reason), operator=True)

    def _deliver(self, channel, queue: Callable[[IrcSession], int], *, operator: bool = False) -> None:
        session = live_session(channel.pk)
        if session is not None:
            if operator and not session.operator:
                raise PermissionMissing(f"IRC {session.settings.channel}: the bot is not a channel operator.")
            mark = queue(session)
            if not session.run_until(lambda: session.sent(mark), seconds=SHORT_SESSION_SECONDS):
                raise TransientError("IRC: the bot could not send in time.", maybe_delivered=True)
            return
        settings = IrcSettings.of(channel)
        session = IrcSession(settings, alternative_nick=False, reconnect_delays=(SHORT_SESSION_SECONDS,))
        session.connect()
        try:
            if not session.run_until(lambda: session.joined, seconds=SHORT_SESSION_SECONDS):
                raise TransientError(f"IRC {settings.server}: could not join {settings.channel} in time.")
            if operator:
                session.run_until(lambda: session.names_known, seconds=SHORT_SESSION_SECONDS)
                if not session.operator:
                    raise PermissionMissing(f"IRC {settings.channel}: the bot is not a channel operator.")
            mark = queue(session)
            if not session.run_until(lambda: session.sent(mark), seconds=SHORT_SESSION_SECONDS):
                raise TransientError("IRC: the lines could not be sent in time.", maybe_delivered=True)
        finally:
            session.close("Palabre")

    # --- connection -------------------------------------------------------------------------------

    def health(self, channel) -> ChannelHealthInfo:
        """Connects, joins the channel and says whether the bot is one of its operators (needed to
        kick, ban or quiet)."""
        settings = IrcSettings.of(channel)
        live = live_session(channel.pk)
        if live is not None and live.joined and live.names_known:  # the bot's own process: it knows
            if not live.operator:
                raise PermissionMissing(f"IRC {settings.channel}: the bot is not a channel operator.")
            return ChannelHealthInfo(
                account=f"{live.nick} on {settings.server} {settings.channel}",
                permissions_checked="verified",
                details={"operator": True},
            )
        session = IrcSession(settings, alternative_nick=live is not None)
        session.connect()
        try:
            if not session.run_until(lambda: session.joined, seconds=SHORT_SESSION_SECONDS):
                raise TransientError(f"IRC {settings.server}: could not join {settings.channel} in time.")
            session.run_until(lambda: session.names_known, seconds=SHORT_SESSION_SECONDS)
            # While the bot holds its nick (in another process), this check came in as nick_:
            # what counts is whether the bot's own nick is an operator.
            if not session.operator and settings.nick not in session.channel_operators:
                raise PermissionMissing(
                    f"IRC {settings.channel}: the bot {settings.nick} is not a channel operator "
                    "(needed to kick, ban or quiet)."
                )
            return ChannelHealthInfo(
                account=f"{settings.nick} on {settings.server} {settings.channel}",
                permissions_checked="verified",
                details={"operator": True},
            )
        finally:
            session.close("Palabre")


# --- the bot -------------------------------------------------------------------------------------


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
