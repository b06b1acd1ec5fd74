"""Connectors API: channels' connection health, the outbox (list, retry, cancel) and replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Query, Router, Schema, Status

from palabre.connectors import queries, services
from palabre.connectors.models import ActionStatus
from palabre.conversations.services import get_item
from palabre.pagination import keyset_page
from palabre.storable import RowId

router = Router(tags=["connectors"])


class ChannelHealthOut(Schema):
    channel_id: int
    name: str
    platform: str
    handle: str
    state: str = Field(
        ..., description="ok, failing, token_expired, token_expiring, attention, unknown or no_connector"
    )
    capabilities: list[str]
    account: str
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str
    last_error_code: str
    consecutive_failures: int
    token_expires_at: datetime | None
    scopes: list[str]
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    poll_enabled: bool
    waiting: dict[str, int] = Field(..., description="Outbound actions not sent yet, by status")


def _health_out(row: queries.ChannelHealth) -> dict:
    sync = row.sync
    return {
        "channel_id": row.channel.pk,
        "name": row.channel.name,
        "platform": row.channel.platform,
        "handle": row.channel.handle,
        "state": row.state,
        "capabilities": sorted(c.value for c in row.capabilities),
        "account": sync.account if sync else "",
        "last_success_at": sync.last_success_at if sync else None,
        "last_error_at": sync.last_error_at if sync else None,
        "last_error": sync.last_error if sync else "",
        "last_error_code": sync.last_error_code if sync else "",
        "consecutive_failures": sync.consecutive_failures if sync else 0,
        "token_expires_at": sync.token_expires_at if sync else None,
        "scopes": list(sync.scopes) if sync else [],
        "last_polled_at": sync.last_polled_at if sync else None,
        "next_poll_at": sync.next_poll_at if sync else None,
        "poll_enabled": sync.poll_enabled if sync else True,
        "waiting": dict(row.waiting),
    }


class ActionOut(Schema):
    id: int
    channel_id: int
    kind: str
    item_id: int | None
    text: str
    idempotency_key: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    last_error_code: str
    external_id: str
    url: str
    result_item_id: int | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None

    @staticmethod
    def resolve_created_by(action) -> str | None:
        return action.created_by.get_username() if action.created_by_id else None


class ActionPage(Schema):
    items: list[ActionOut]
    next_cursor: str | None


class OutboxFilters(Schema):
    status: ActionStatus | None = None
    channel: RowId | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class ItemReplyIn(Schema):
    text: str = Field(..., min_length=1, max_length=20_000)
    idempotency_key: str = Field(
        "",
        max_length=200,
        description="Send the same key again and the same reply comes back, never a second one",
    )


@router.get(
    "/connectors/channels", response=list[ChannelHealthOut], summary="Every channel's connection health"
)
def list_channels(request):
    return [_health_out(row) for row in queries.channel_health(request.auth)]


@router.get("/connectors/channels/{int:channel_id}", response=ChannelHealthOut)
def channel_health(request, channel_id: RowId):
    channel = services.get_channel(actor=request.auth, channel_id=channel_id)
    return _health_out(queries.health_of(request.auth, channel))


@router.post("/connectors/channels/{int:channel_id}/pull", response={202: ChannelHealthOut})
def pull(request, channel_id: RowId):
    channel = services.get_channel(actor=request.auth, channel_id=channel_id)
    services.request_pull(actor=request.auth, channel=channel)
    return Status(202, _health_out(queries.health_of(request.auth, channel)))


@router.get("/connectors/outbox", response=ActionPage, summary="Replies, publications, hides and deletes")
def list_outbox(request, filters: Query[OutboxFilters]):
    rows = queries.outbox(request.auth, status=filters.status or "", channel_id=filters.channel)
    page = keyset_page(rows, cursor=filters.cursor, limit=filters.limit)
    return {"items": page.rows, "next_cursor": page.next_cursor}


@router.get("/connectors/outbox/{int:action_id}", response=ActionOut)
def get_action(request, action_id: RowId):
    return services.get_action(actor=request.auth, action_id=action_id)


@router.post(
    "/connectors/outbox/{int:action_id}/retry", response=ActionOut, summary="Send a failed action again"
)
def retry(request, action_id: RowId):
    action = services.get_action(actor=request.auth, action_id=action_id)
    return services.retry_action(actor=request.auth, action=action)


@router.post("/connectors/outbox/{int:action_id}/cancel", response=ActionOut)
def cancel(request, action_id: RowId):
    action = services.get_action(actor=request.auth, action_id=action_id)
    return services.cancel_action(actor=request.auth, action=action)


@router.post(
    "/connectors/items/{int:item_id}/reply",
    response={202: ActionOut},
    summary="Answer an item on its channel",
)
def reply(request, item_id: RowId, payload: ItemReplyIn):
    item = get_item(actor=request.auth, item_id=item_id)
    action = services.queue_reply(
        actor=request.auth, item=item, text=payload.text, idempotency_key=payload.idempotency_key
    )
    return Status(202, action)


class CredentialFieldOut(Schema):
    name: str
    label: str
    help: str = Field(..., description="What the field is and where to find it on the platform")
    kind: str = Field(..., description="text, secret, url, integer or choice")
    secret: bool
    required: bool
    choices: list[str]


class PlatformOut(Schema):
    platform: str
    capabilities: list[str]
    credentials: list[CredentialFieldOut] | None = Field(
        ..., description="The fields a channel's credentials may carry; null: not declared (unchecked)"
    )


@router.get(
    "/connectors/platforms",
    response=list[PlatformOut],
    summary="Each platform's connector and the credentials it takes",
)
def list_platforms(request):
    from palabre.connectors.credentials import schema
    from palabre.connectors.registry import registered

    return [
        {
            "platform": platform,
            "capabilities": sorted(capability.value for capability in connector_class.capabilities),
            "credentials": None if connector_class.credential_fields is None else schema(connector_class),
        }
        for platform, connector_class in sorted(registered().items())
    ]


class OptionsIn(Schema):
    options: dict[str, Any] = Field(
        ..., description="Option name to value; an empty string or null puts the connector's default back"
    )


class OptionsOut(Schema):
    options: dict[str, Any] = Field(..., description="The options set (those never set are left out)")
    fields: list[CredentialFieldOut] = Field(..., description="The options the channel's connector declares")


def _options_out(channel) -> dict:
    from palabre.connectors.credentials import describe

    return {"options": services.options_of(channel), "fields": describe(services.option_fields(channel))}


@router.get("/connectors/channels/{int:channel_id}/options", response=OptionsOut)
def channel_options(request, channel_id: RowId):
    channel = services.get_channel(actor=request.auth, channel_id=channel_id)
    return _options_out(channel)


@router.put(
    "/connectors/channels/{int:channel_id}/options",
    response=OptionsOut,
    summary="Set a channel's options (an organisation's admin); 422 names each refused option",
)
def set_channel_options(request, channel_id: RowId, payload: OptionsIn):
    channel = services.get_channel(actor=request.auth, channel_id=channel_id)
    channel = services.update_channel_options(actor=request.auth, channel=channel, values=payload.options)
    return _options_out(channel)
