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

from collections.abc import Callable, Sequence

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
    TransientError,
)
from palabre.connectors.irc.bot import (
    HEARTBEAT_SECONDS,
    attach,
    bot_step,
    live_session,
    run_bot,
    write_heartbeat,
)
from palabre.connectors.irc.session import (
    BAN_MODES,
    DEFAULT_PORT,
    SHORT_SESSION_SECONDS,
    IrcSession,
    IrcSettings,
    TokenBucket,
    moderation_lines,
    split_text,
)

__all__ = [
    "HEARTBEAT_SECONDS",
    "IrcConnector",
    "IrcSession",
    "IrcSettings",
    "TokenBucket",
    "attach",
    "bot_step",
    "live_session",
    "moderation_lines",
    "run_bot",
    "split_text",
    "write_heartbeat",
]


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
