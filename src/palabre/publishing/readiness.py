"""Can this channel publish this variant at all? Said on the draft, before approval, in words:
no connector for the platform, a connector that cannot publish (or not files), missing
credentials, a channel not connected (never authorised on the platform, a token refused), a channel
archived or awaiting approval, files the connector cannot send. Each reason is a blocking finding
(`channel_ready`), so a post is never submitted to go out where it cannot.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from palabre.connectors.base import Capability
from palabre.connectors.connection import connection_of
from palabre.connectors.registry import connector_class_for
from palabre.orgs.models import Channel, Platform
from palabre.publishing import guardrails

CHANNEL_READY = "channel_ready"

# What a connector sends besides its text, when the platform takes more than Palabre sends yet.
SENDS_ONLY = {Platform.BLUESKY: ("image/",)}


def _finding(explanation: str, reason: str, channel: Channel) -> guardrails.Finding:
    return guardrails.Finding(
        CHANNEL_READY,
        guardrails.BLOCK,
        explanation,
        None,
        {"reason": reason, "channel": channel.pk, "platform": channel.platform},
    )


def problems(channel: Channel, media: Sequence[dict] = ()) -> list[guardrails.Finding]:
    """Why Palabre cannot publish this variant on the channel; empty when it can."""
    platform = channel.get_platform_display()
    connector_class = connector_class_for(channel.platform)
    if connector_class is None:
        return [
            _finding(
                _(
                    "Not connected: Palabre has no %(platform)s connector yet, so it cannot publish "
                    "on this channel. Drop this channel from the post and publish there by hand."
                )
                % {"platform": platform},
                "no_connector",
                channel,
            )
        ]
    if Capability.PUBLISH not in connector_class.capabilities:
        return [
            _finding(
                _(
                    "Palabre's %(platform)s connector reads and answers but does not publish posts: "
                    "drop this channel from the post and publish there by hand."
                )
                % {"platform": platform},
                "no_publish",
                channel,
            )
        ]
    found = []
    required = [f for f in (connector_class.credential_fields or ()) if f.required]
    if required and not channel.has_credentials:
        found.append(
            _finding(
                _(
                    "Not connected: this channel has no credentials yet. Enter them on the channel's "
                    "page before it can publish."
                ),
                "no_credentials",
                channel,
            )
        )
    else:
        connection = connection_of(channel)
        if not connection.connected:
            # An OAuth channel never connected through the platform, or whose token was refused.
            found.append(
                _finding(
                    _("Not connected: %(next_step)s") % {"next_step": connection.next_step},
                    "not_connected",
                    channel,
                )
            )
    if media and Capability.PUBLISH_MEDIA not in connector_class.capabilities:
        found.append(
            _finding(
                _("Palabre's %(platform)s connector publishes text only: remove the files from this channel.")
                % {"platform": platform},
                "no_media",
                channel,
            )
        )
    if channel.status == Channel.Status.ARCHIVED:
        found.append(_finding(_("This channel is archived: it publishes nothing."), "archived", channel))
    elif channel.status == Channel.Status.AWAITING_APPROVAL:
        found.append(
            _finding(
                _("This channel awaits an owner's approval: it publishes nothing until then."),
                "awaiting_approval",
                channel,
            )
        )
    sends = SENDS_ONLY.get(channel.platform)
    if sends and any(not str(m.get("mime_type", "")).startswith(sends) for m in media):
        found.append(
            _finding(
                _("Palabre sends only pictures to %(platform)s for now: remove the video from this channel.")
                % {"platform": platform},
                "media_type",
                channel,
            )
        )
    return found
