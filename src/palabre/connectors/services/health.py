"""Channel checks asked by a person or the health job: the connection tried, its result explained, a pull requested."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.connectors.base import (
    Capability,
    Connector,
    ConnectorError,
    RateLimited,
)
from palabre.connectors.connection import require_connected
from palabre.connectors.explain import explain
from palabre.connectors.models import (
    ChannelSync,
)
from palabre.connectors.oauth import fresh_credentials, token_expiry
from palabre.connectors.registry import connector_class_for, connector_for
from palabre.connectors.services.pacing import _same_org, record_failure, record_success, sync_for
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record


def _channel_in_org(actor: Actor, channel_id: int) -> Channel:
    channel = Channel.objects.visible_to(actor).filter(pk=channel_id).first()
    if channel is None:
        raise NotInOrganisation
    return channel


def get_channel(*, actor: Actor, channel_id: int) -> Channel:
    actor.require(Perm.CHANNELS_VIEW)
    return _channel_in_org(actor, channel_id)


def refresh_health(channel: Channel) -> ChannelSync:
    """Ask the platform about the connection (account, token expiry, scopes) and keep the answer."""
    sync = sync_for(channel)
    try:
        fresh_credentials(channel)
        info = connector_for(channel).health(channel)
    except ConnectorError as error:
        return record_failure(channel, error, counts=not isinstance(error, RateLimited))
    fields: dict[str, Any] = {
        "health_checked_at": timezone.now(),
        "scopes": list(info.scopes),
        "permissions_checked": info.permissions_checked,
        "permissions_note": info.permissions_note,
        "details": dict(info.details),
        # The token works; its expiry is what the platform tells now, else what its token endpoint
        # said when it was given (`expires_in`), else unknown.
        "token_expires_at": info.token_expires_at
        or (token_expiry(channel.read_credentials()) if channel.has_credentials else None),
    }
    if info.account:
        fields["account"] = info.account[:300]
    ChannelSync.objects.filter(pk=sync.pk).update(**fields)
    limit = info.details.get("max_characters")
    if isinstance(limit, int) and limit != (channel.options or {}).get("max_characters"):
        # The instance's own length limit (a Mastodon server may raise 500): what replies and
        # posts are checked against.
        channel.options = {**(channel.options or {}), "max_characters": limit}
        type(channel).objects.filter(pk=channel.pk).update(options=channel.options)
    record_success(channel)
    sync.refresh_from_db()
    return sync


def check_channel(*, actor: Actor, channel: Channel) -> ChannelSync:
    """A person asks to check the connection now."""
    _same_org(actor, channel.organisation_id)
    actor.require(Perm.CHANNELS_MANAGE)
    sync = refresh_health(channel)
    record(
        actor, "connectors.checked", channel, after={"error": sync.last_error_code if sync.is_failing else ""}
    )
    return sync


def check_worked(sync: ChannelSync) -> bool:
    """The last call on the channel succeeded (nothing failed since)."""
    return bool(sync.last_success_at) and (
        sync.last_error_at is None or sync.last_success_at >= sync.last_error_at
    )


def connection_result(sync: ChannelSync) -> dict[str, str]:
    """A check's outcome as the person reads it (their language) and the API answers it."""
    account = sync.account
    if not check_worked(sync):
        return {
            "status": "failed",
            "code": sync.last_error_code,
            "account": account,
            "message": explain(sync.last_error_code),
            "detail": sync.last_error,
        }
    named = {"account": account}
    if sync.permissions_checked == "partial":
        message = (
            _(
                "Connected as %(account)s, but what these credentials may do could be checked only in part "
                "(see the detail): the first reply will tell."
            )
            if account
            else _(
                "Connected, but what these credentials may do could be checked only in part (see the detail): "
                "the first reply will tell."
            )
        )
        return {
            "status": "partial",
            "code": "",
            "account": account,
            "message": message % named,
            "detail": sync.permissions_note,
        }
    if sync.permissions_checked == "verified":
        message = _("Connected as %(account)s: the credentials allow what the channel will be asked to do.")
    elif account:
        message = _("Connected as %(account)s.")
    else:
        message = _("The connection works.")
    return {"status": "connected", "code": "", "account": account, "message": message % named, "detail": ""}


def try_credentials(*, actor: Actor, channel: Channel) -> dict[str, str] | None:
    """New credentials tried at once (`check_channel`, within the connectors' HTTP timeout and
    address guard): what was found, or None where nothing can be tried (no connector, no
    credentials, or a connector with no check of its own: saying "connected" would be a guess)."""
    connector_class = connector_class_for(channel.platform)
    if connector_class is None or not channel.has_credentials or connector_class.health is Connector.health:
        return None
    if connector_class.oauth is not None and not channel.read_credentials().get("access_token"):
        # The app's client id and secret alone: nothing to try until the platform grants access.
        return {
            "status": "partial",
            "code": "",
            "account": "",
            "message": _("Saved. Now connect the channel with the platform, from its page."),
            "detail": "",
        }
    return connection_result(check_channel(actor=actor, channel=channel))


# "Pull now" is for a person who wants what just arrived, not for a loop: a channel is pulled at
# most once a minute however it is asked, and a pull already waiting for a worker is not queued
# again (each request queued a task: a script could fill the queue every organisation shares).
MIN_PULL_GAP = timedelta(minutes=1)


@transaction.atomic
def request_pull(*, actor: Actor, channel: Channel) -> ChannelSync:
    """Pull the channel as soon as a worker is free, whatever its schedule."""
    _same_org(actor, channel.organisation_id)
    actor.require(Perm.CHANNELS_MANAGE)
    connector_class = connector_class_for(channel.platform)
    if connector_class is None or Capability.PULL not in connector_class.capabilities:
        raise ValidationError({"channel": _("This channel has nothing to pull.")})
    require_connected(channel)
    sync = sync_for(channel)
    now = timezone.now()
    if sync.last_polled_at is not None and sync.last_polled_at + MIN_PULL_GAP > now:
        wait = math.ceil((sync.last_polled_at + MIN_PULL_GAP - now).total_seconds())
        raise ValidationError(
            {
                "channel": _("This channel was pulled less than a minute ago: ask again in %(n)s seconds.")
                % {"n": wait}
            }
        )
    waiting = sync.poll_enabled and sync.next_poll_at is not None and sync.next_poll_at <= now
    ChannelSync.objects.filter(pk=sync.pk).update(next_poll_at=now)
    record(actor, "connectors.pull_requested", channel)
    if not waiting:  # else a worker takes the pull already due at its next round
        from palabre.connectors.tasks import poll_channel

        channel_id = channel.pk
        transaction.on_commit(lambda: poll_channel.enqueue(channel_id))
    return sync
