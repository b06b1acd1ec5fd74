"""API for the organisation, its channels, members, API tokens and audit log. Thin: services decide."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.security import APIKeyCookie

from palabre.orgs import queries, services
from palabre.orgs.models import ApiToken, AuditEvent, Channel, Membership
from palabre.orgs.permissions import Perm
from palabre.pagination import keyset_page
from palabre.storable import Moment, RowId

router = Router(tags=["organisation"])


def _actor(request: HttpRequest) -> services.Actor:
    return request.auth


# --- schemas ----------------------------------------------------------------------------------


class OrganisationOut(Schema):
    id: int
    name: str
    slug: str
    language: str
    time_zone: str
    permissions: list[str]


class ChannelOut(Schema):
    id: int
    platform: str
    handle: str
    name: str
    status: str
    kind: str
    spokesperson: str | None
    spokesperson_approved_at: datetime | None
    has_credentials: bool
    credentials_updated_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_spokesperson(channel: Channel) -> str | None:
        return channel.spokesperson.get_username() if channel.spokesperson_id else None


class ConnectionOut(Schema):
    status: str = Field(..., description="connected, partial (permissions checked only in part) or failed")
    code: str = Field(
        ...,
        description="the error's code when failed: transient (network), token_expired "
        "(authentication), permission_missing, permanent, ...; empty otherwise",
    )
    account: str
    message: str = Field(..., description="what it means and the next step, in the request's language")
    detail: str = Field(..., description="the platform's answer or what could not be checked (English)")


class ChannelSavedOut(ChannelOut):
    connection: ConnectionOut | None = Field(
        None,
        description=(
            "The connection check run on the new credentials (none without credentials, or with check=false)."
        ),
    )


class ChannelIn(Schema):
    platform: str = Field(..., max_length=32, examples=["mastodon"])
    handle: str = Field(..., min_length=1, max_length=200, examples=["@maisonlumiere@mastodon.social"])
    name: str = Field(..., min_length=1, max_length=200, examples=["Maison Lumière on Mastodon"])
    credentials: dict[str, str] | None = Field(
        None,
        description=(
            "Write-only; never returned. The fields each platform takes (names, kinds, which are secret, "
            "where to find them): GET /api/connectors/platforms; a field unknown to the platform, "
            "missing or ill-typed is refused with 422 naming it (`credentials.<field>`)."
        ),
    )
    spokesperson: bool = Field(False, description="Connect your own account; an owner must approve it.")


class ChannelPatch(Schema):
    handle: str | None = Field(None, min_length=1, max_length=200)
    name: str | None = Field(None, min_length=1, max_length=200)
    status: str | None = None


class CredentialsIn(Schema):
    credentials: dict[str, str] = Field(
        ...,
        description=(
            "Write-only; never returned. The fields each platform takes (names, kinds, which are secret, "
            "where to find them): GET /api/connectors/platforms; a field unknown to the platform, "
            "missing or ill-typed is refused with 422 naming it (`credentials.<field>`)."
        ),
    )


class MemberOut(Schema):
    id: int
    username: str
    email: str
    role: str
    created_at: datetime
    removed_at: datetime | None

    @staticmethod
    def resolve_username(membership: Membership) -> str:
        return membership.user.get_username()

    @staticmethod
    def resolve_email(membership: Membership) -> str:
        return membership.user.email


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    status: str
    mailed: bool
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class InvitationIn(Schema):
    email: str = Field(..., min_length=3, max_length=254, examples=["camille@example.com"])
    role: str = Field(..., max_length=32, examples=["moderator"])


class InvitationCreated(InvitationOut):
    code: str = Field(..., description="Shown this once; Palabre keeps only a hash. Single use.")
    link: str = Field(..., description="Where the invited person accepts (the code is in it).")


class InvitationAccept(Schema):
    code: str = Field(..., min_length=1, max_length=100)


class JoinedOut(Schema):
    organisation: str = Field(..., description="The short name of the organisation joined.")
    role: str


class RolePatch(Schema):
    role: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    acts_for: str | None = Field(
        None, description="The person behind the token; its scopes are capped by their current role."
    )
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @staticmethod
    def resolve_acts_for(token: ApiToken) -> str | None:
        return token.on_behalf_of.get_username() if token.on_behalf_of_id else None


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    scopes: list[str] = Field(..., min_length=1)
    expires_at: Moment | None = None


class TokenCreated(TokenOut):
    token: str = Field(..., description="Shown this once; Palabre keeps only a hash.")


class AuditOut(Schema):
    id: int
    created_at: datetime
    actor: str = Field(..., alias="actor_label")
    action: str
    target_type: str
    target_id: str
    target_label: str
    before: Any
    after: Any


class AuditPage(Schema):
    events: list[AuditOut]
    next_cursor: str | None


class AuditFilters(Schema):
    action: str | None = Field(None, description="Action, or its prefix such as `channel.`")
    actor: str | None = None
    target_type: str | None = None
    since: Moment | None = None
    until: Moment | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


# --- organisation -----------------------------------------------------------------------------


@router.get("/organisation", response=OrganisationOut, summary="The organisation the caller acts in")
def organisation(request):
    actor = _actor(request)
    org = actor.organisation
    return {
        "id": org.pk,
        "name": org.name,
        "slug": org.slug,
        "language": org.language,
        "time_zone": org.time_zone,
        "permissions": sorted(actor.permissions),
    }


# --- channels ---------------------------------------------------------------------------------


def _channel(actor: services.Actor, channel_id: int) -> Channel:
    actor.require(Perm.CHANNELS_VIEW)
    return Channel.objects.select_related("spokesperson").visible_to(actor).get(pk=channel_id)


@router.get("/channels", response=list[ChannelOut])
def list_channels(request):
    actor = _actor(request)
    actor.require(Perm.CHANNELS_VIEW)
    return Channel.objects.visible_to(actor).select_related("spokesperson")


CHECK_DESCRIPTION = (
    "Try the credentials on the platform at once and answer what was found (`connection`); "
    "false skips it (bulk imports, automation): the periodic check tries them later."
)


def _saved(actor: services.Actor, channel: Channel, *, check: bool, credentials: bool) -> Channel:
    """The channel, with the outcome of the connection check run on its new credentials."""
    channel.connection = (
        services.check_connection(actor=actor, channel=channel) if check and credentials else None
    )
    return channel


@router.post("/channels", response={201: ChannelSavedOut})
def create_channel(request, payload: ChannelIn, check: bool = Query(True, description=CHECK_DESCRIPTION)):
    actor = _actor(request)
    channel = services.create_channel(actor=actor, **payload.dict())
    return Status(201, _saved(actor, channel, check=check, credentials=bool(payload.credentials)))


@router.get("/channels/{int:channel_id}", response=ChannelOut)
def get_channel(request, channel_id: RowId):
    return _channel(_actor(request), channel_id)


@router.patch("/channels/{int:channel_id}", response=ChannelOut)
def update_channel(request, channel_id: RowId, payload: ChannelPatch):
    actor = _actor(request)
    changes = payload.dict(exclude_none=True)
    return services.update_channel(actor=actor, channel=_channel(actor, channel_id), **changes)


@router.put("/channels/{int:channel_id}/credentials", response=ChannelSavedOut)
def replace_credentials(
    request,
    channel_id: RowId,
    payload: CredentialsIn,
    check: bool = Query(True, description=CHECK_DESCRIPTION),
):
    actor = _actor(request)
    channel = services.set_channel_credentials(
        actor=actor, channel=_channel(actor, channel_id), credentials=payload.credentials
    )
    return _saved(actor, channel, check=check, credentials=True)


@router.post("/channels/{int:channel_id}/approve-spokesperson", response=ChannelOut)
def approve_spokesperson(request, channel_id: RowId):
    actor = _actor(request)
    return services.approve_spokesperson_channel(actor=actor, channel=_channel(actor, channel_id))


# --- members ----------------------------------------------------------------------------------


def _membership(actor: services.Actor, membership_id: int) -> Membership:
    actor.require(Perm.MEMBERS_VIEW)
    return Membership.objects.select_related("user", "organisation").visible_to(actor).get(pk=membership_id)


@router.get("/members", response=list[MemberOut])
def list_members(request, include_former: bool = False):
    actor = _actor(request)
    actor.require(Perm.MEMBERS_VIEW)
    members = Membership.objects.visible_to(actor).select_related("user")
    return members if include_former else members.active()


@router.patch("/members/{int:membership_id}", response=MemberOut)
def change_role(request, membership_id: RowId, payload: RolePatch):
    actor = _actor(request)
    return services.change_role(actor=actor, membership=_membership(actor, membership_id), role=payload.role)


@router.delete("/members/{int:membership_id}", response=dict[str, Any], summary="Offboard a member")
def remove_member(request, membership_id: RowId, successor: RowId | None = None):
    """Ends the person's access to this organisation at once (and the API tokens acting for them
    here) and returns what they could reach. Their access to other organisations is untouched.
    Channels, drafts and conversations stay with the organisation. `successor` (a membership id
    of this organisation) takes over their open threads and drafts; without it they are left
    unassigned. Either way `handover` lists them."""
    actor = _actor(request)
    return services.offboard_member(
        actor=actor,
        membership=_membership(actor, membership_id),
        successor=_membership(actor, successor) if successor is not None else None,
    )


# --- invitations ------------------------------------------------------------------------------


class SignedInPerson(APIKeyCookie):
    """A signed-in person, member of an organisation or not yet (accepting an invitation)."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user if request.user.is_authenticated else None


@router.get("/invitations", response=list[InvitationOut])
def list_invitations(request):
    return queries.invitations(_actor(request))


@router.post("/invitations", response={201: InvitationCreated}, summary="Invite someone by e-mail")
def invite_member(request, payload: InvitationIn):
    """The person joins once they accept (signed in) with the link mailed to them, or with the code
    handed over where the install sends no mail. Nothing about existing accounts is revealed."""
    issued = services.invite_member(
        actor=_actor(request),
        email=payload.email,
        role=payload.role,
        site_url=request.build_absolute_uri("/"),
    )
    out = InvitationOut.from_orm(issued.invitation).dict()
    return Status(201, {**out, "code": issued.code, "link": issued.link})


@router.delete("/invitations/{int:invitation_id}", response=InvitationOut, summary="Withdraw an invitation")
def revoke_invitation(request, invitation_id: RowId):
    actor = _actor(request)
    return services.revoke_invitation(actor=actor, invitation=queries.invitation(actor, invitation_id))


@router.post(
    "/invitations/accept",
    response={201: JoinedOut},
    auth=SignedInPerson(),
    summary="Accept an invitation (signed-in person)",
)
def accept_invitation(request, payload: InvitationAccept):
    membership = services.accept_invitation(user=request.auth, code=payload.code)
    return Status(201, {"organisation": membership.organisation.slug, "role": membership.role})


# --- API tokens -------------------------------------------------------------------------------


@router.get("/tokens", response=list[TokenOut])
def list_tokens(request):
    actor = _actor(request)
    actor.require(Perm.TOKENS_MANAGE)
    return ApiToken.objects.visible_to(actor).select_related("on_behalf_of")


@router.post("/tokens", response={201: TokenCreated})
def create_token(request, payload: TokenIn):
    token, plaintext = services.create_api_token(actor=_actor(request), **payload.dict())
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": plaintext})


@router.delete("/tokens/{int:token_id}", response=TokenOut)
def revoke_token(request, token_id: RowId):
    actor = _actor(request)
    actor.require(Perm.TOKENS_MANAGE)
    token = ApiToken.objects.visible_to(actor).get(pk=token_id)
    return services.revoke_api_token(actor=actor, token=token)


# --- audit ------------------------------------------------------------------------------------


@router.get("/audit", response=AuditPage)
def audit_log(request, filters: Query[AuditFilters]):
    actor = _actor(request)
    actor.require(Perm.AUDIT_VIEW)
    events = AuditEvent.objects.visible_to(actor)
    if filters.action:
        events = events.filter(
            Q(action=filters.action) | Q(action__startswith=filters.action.rstrip(".") + ".")
        )
    if filters.actor:
        events = events.filter(actor_label__icontains=filters.actor)
    if filters.target_type:
        events = events.filter(target_type=filters.target_type)
    if filters.since:
        events = events.filter(created_at__gte=filters.since)
    if filters.until:
        events = events.filter(created_at__lt=filters.until)
    page = keyset_page(events, cursor=filters.cursor, limit=filters.limit)
    return {"events": page.rows, "next_cursor": page.next_cursor}
