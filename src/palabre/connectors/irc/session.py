"""One connection to an IRC server: the channel's settings, the login (TLS, SASL PLAIN or
NickServ), the flood limit (a token bucket), what is heard turned into items, lines said,
moderation modes (ban, quiet, kick)."""

from __future__ import annotations

import functools
import itertools
import ssl
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from django.utils import timezone

from palabre.connectors import outbound
from palabre.connectors.base import (
    PermanentError,
    PermissionMissing,
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
# The longest line a server may send (IRCv3 message tags included): what is longer is not IRC.
MAX_INCOMING_LINE = 8191


BAN_MODES = ("ban", "quiet", "kick")


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


@functools.cache
def _bounded_line_buffer() -> type:
    """The irc library's line buffer, but an unfinished line longer than any IRC line is dropped:
    the library keeps what a server sends until a newline comes, without end."""
    from jaraco.stream import buffer

    class BoundedLineBuffer(buffer.DecodingLineBuffer):
        def feed(self, data: bytes) -> None:
            super().feed(data)
            head, newline, tail = self.buffer.rpartition(b"\n")
            if len(tail) > MAX_INCOMING_LINE:
                self.buffer = head + newline

    return BoundedLineBuffer


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
        # The `irc` library is imported where it is used, not by every Palabre process at start-up.
        import irc.client

        self.reactor = irc.client.Reactor()
        self.connection = self.reactor.server()
        self.connection.buffer_class = _bounded_line_buffer()
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
        import irc.client
        import irc.connection

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
        import irc.client

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
        import irc.modes

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
        import irc.client

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
