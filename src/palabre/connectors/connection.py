"""Is a channel connected, and if not, what is the next step? One answer for every page that
offers to act on a channel (the channels and health pages, the inbox's reply box, publishing's
readiness), so none of them offers what cannot happen.

A channel is not connected when Palabre has no connector for its platform (next step: the
docs, to publish or answer there by hand), when its connector needs credentials it does not
have, or an OAuth token it was never given (next step: connect), or when the platform refused its
token (expired, revoked, a refused renewal: next step, reconnect), or when its connector works
through a long-lived process of its own (the IRC bot) whose heartbeat is missing or older than
`STALE_HEARTBEATS` intervals (next step: start it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from palabre.connectors.base import Capability
from palabre.connectors.models import ChannelSync
from palabre.connectors.registry import connector_class_for
from palabre.orgs.models import Channel, Platform

# Error codes that say the credentials themselves no longer work.
RECONNECT_CODES = frozenset({"token_expired"})
# A bot whose last heartbeat is older than this many of its intervals is not running.
STALE_HEARTBEATS = 3


@dataclass(frozen=True)
class Connection:
    """`reason`: "" (connected), "no_connector", "no_credentials", "not_authorised" (an OAuth
    channel that was never connected through the platform), "reconnect", "bot_not_running" (its
    bot's heartbeat is missing or stale: `since` is the last one, `channel_id` says which bot to
    start); `oauth`: the platform connects through an authorisation page (the channel page's
    button)."""

    reason: str = ""
    oauth: bool = False
    platform: str = ""
    since: datetime | None = None
    channel_id: int | None = None

    @property
    def connected(self) -> bool:
        return not self.reason

    @property
    def next_step(self) -> str:
        """What to do, in the reader's language ("" when connected)."""
        if self.reason == "no_connector":
            return _(
                "Palabre has no %(platform)s connector yet: it can neither read nor answer here. "
                "Act on the platform itself (see docs/connectors/README.md)."
            ) % {"platform": self.platform}
        if self.reason == "reconnect":
            if self.oauth:
                return _("The platform refused the channel's access: connect it again with the platform.")
            return _("The platform refused the channel's credentials: enter new ones.")
        if self.reason == "bot_not_running":
            command = f"palabre irc-bot --channel {self.channel_id}"
            if self.since is None:
                return _("The channel's bot is not running: start it with “%(command)s”.") % {
                    "command": command
                }
            return _(
                "The channel's bot has not been running since %(time)s: start it with “%(command)s”."
            ) % {
                "time": formats.date_format(timezone.localtime(self.since), "DATETIME_FORMAT"),
                "command": command,
            }
        if self.reason == "not_authorised":
            return _("Connect the channel with the platform, from its page.")
        if self.reason == "no_credentials":
            if self.oauth:
                return _("Enter your app's client id and secret, then connect the channel with the platform.")
            return _("Enter the channel's credentials to connect it.")
        return ""


def _latest_error_code(sync: ChannelSync | None) -> str:
    if sync is None or not sync.last_error_at or not sync.last_error_code:
        return ""
    if sync.last_success_at and sync.last_success_at > sync.last_error_at:
        return ""
    return sync.last_error_code


_UNREAD = object()


def bot_is_running(sync: ChannelSync | None, heartbeat_seconds: float, now: datetime) -> bool:
    """The channel's bot wrote a heartbeat within the last `STALE_HEARTBEATS` intervals."""
    beat = sync.heartbeat_at if sync is not None else None
    return beat is not None and beat >= now - timedelta(seconds=heartbeat_seconds * STALE_HEARTBEATS)


def connection_of(
    channel: Channel, sync: ChannelSync | None | object = _UNREAD, *, now: datetime | None = None
) -> Connection:
    """The channel's connection as it stands (`sync`: its ChannelSync, or None where it has none,
    when the caller read it already: no query then)."""
    connector_class = connector_class_for(channel.platform)
    platform = channel.get_platform_display()
    if connector_class is None:
        return Connection("no_connector", platform=platform)
    oauth = connector_class.oauth is not None
    needs_credentials = oauth or any(f.required for f in connector_class.credential_fields or ())
    if needs_credentials and not channel.has_credentials:
        return Connection("no_credentials", oauth, platform)
    if oauth and not connector_class().authorised(channel.read_credentials()):
        return Connection("not_authorised", oauth, platform)
    if sync is _UNREAD:
        sync = ChannelSync.objects.filter(channel=channel).first()
    if _latest_error_code(sync) in RECONNECT_CODES:
        return Connection("reconnect", oauth, platform)
    heartbeat_seconds = connector_class.heartbeat_seconds
    if heartbeat_seconds and not bot_is_running(sync, heartbeat_seconds, now or timezone.now()):
        since = sync.heartbeat_at if sync is not None else None
        return Connection("bot_not_running", oauth, platform, since=since, channel_id=channel.pk)
    return Connection("", oauth, platform)


def require_connected(channel: Channel) -> None:
    """Refuses what could only fail on a channel that is not connected (an outbound action, a pull
    asked by hand), naming the channel's field, the reason and the next step."""
    connection = connection_of(channel)
    if not connection.connected:
        raise ValidationError(
            {
                "channel": _("This channel is not connected. %(next_step)s")
                % {"next_step": connection.next_step}
            }
        )


# What a moderator may ask of the platform on one item, each with the capability it needs.
ITEM_ACTIONS = {
    "hide": Capability.HIDE,
    "unhide": Capability.UNHIDE,
    "delete": Capability.DELETE,
    "ban_author": Capability.BAN_AUTHOR,
}


def item_actions(channel: Channel) -> list[str]:
    """The moderation actions the channel's connector can carry out on its platform (none for the
    site's comments: the widget shows what moderation approves, the queue acts there)."""
    if channel.platform == Platform.SITE:
        return []
    connector_class = connector_class_for(channel.platform)
    declared = connector_class.capabilities if connector_class else frozenset()
    return [name for name, capability in ITEM_ACTIONS.items() if capability in declared]


def can_reply_privately(channel: Channel) -> bool:
    """The channel's connector answers an author in private (a direct message)."""
    connector_class = connector_class_for(channel.platform)
    return connector_class is not None and Capability.PRIVATE_REPLY in connector_class.capabilities
