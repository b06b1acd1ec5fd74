"""Connecting a channel through its platform's OAuth 2.0 authorisation-code flow, and keeping the
token fresh.

The protocol pieces (PKCE's verifier and S256 challenge, the token request bodies, reading the
token endpoint's answer and its errors) come from oauthlib; every request goes through Palabre's
one HTTP client (`http_client.request`: the address guard, the timeout, the size limit).

1. `authorisation_url`: a person who manages channels, on a channel whose connector declares
   `oauth` and whose credentials carry the organisation's own app (client id, and secret), is sent
   to the platform's `authorize_url` with the scopes, a `state` signed by Palabre and bound to the
   organisation, the channel and the person, expiring after `STATE_MAX_AGE`, and a PKCE challenge
   where the spec asks. The PKCE verifier and the state's one-time nonce stay in the person's
   session: a state replayed, or carried to another browser, is refused.
2. `complete`: the platform sends the person back to the one callback address (shown on the
   channel page, to register on the platform); the state is checked, the code exchanged at
   `token_url`, `connector.credentials_from_token` turns the answer into credentials, stored
   (merged with the app's client id and secret) by the organisation's credential service: audited
   and checked like any credentials typed by hand.
3. `fresh_credentials`: before a platform call, a token whose `token_expires_at` is near is renewed
   with the standard refresh_token grant (or the connector's own `refresh_credentials(channel)`),
   under the channel's row lock so two workers never spend one refresh token twice; a refusal
   raises `TokenExpired`, which marks the channel as needing reconnection.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from oauthlib.common import add_params_to_uri
from oauthlib.oauth2 import WebApplicationClient
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from oauthlib.oauth2.rfc6749.parameters import parse_token_response

from palabre.connectors import http_client
from palabre.connectors.base import OAuthSpec, TokenExpired, TransientError
from palabre.connectors.credentials import plain_http_allowed
from palabre.connectors.registry import connector_class_for
from palabre.orgs import crypto
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record, set_channel_credentials

STATE_SALT = "palabre.connectors.oauth.state"
# Long enough to log in on the platform and read its consent screen; short enough that a state
# found later in a browser history or a log is worthless.
STATE_MAX_AGE = 15 * 60
SESSION_KEY = "palabre_oauth"
# At most this many flows waiting in one session (tabs opened and abandoned).
MAX_PENDING = 5
# A token is renewed when it expires within this margin (a slow call must not outlive it).
REFRESH_MARGIN = timedelta(minutes=5)
TOKEN_KEYS = ("access_token", "refresh_token", "token_expires_at")


class OAuthRefused(Exception):
    """The flow stopped: `code` says why, `str()` says it to the person (their language)."""

    def __init__(self, code: str, message: str, detail: str = "", channel: Channel | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail[:300]
        # The channel it was for, once the state told it (the page links back to it).
        self.channel = channel


def spec_for(channel: Channel) -> OAuthSpec | None:
    connector_class = connector_class_for(channel.platform)
    return connector_class.oauth if connector_class is not None else None


def _check_address(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and plain_http_allowed(parts.hostname or "")):
        return
    raise ValidationError({"oauth": _("The platform's authorisation address must start with https://.")})


def _app(channel: Channel, spec: OAuthSpec) -> tuple[str, str]:
    """The organisation's app on the platform: its client id and secret, typed on the channel."""
    credentials = channel.read_credentials() if channel.has_credentials else {}
    client_id = str(credentials.get(spec.client_id_field) or "")
    secret = str(credentials.get(spec.client_secret_field) or "")
    if not client_id or (spec.token_auth != "none" and not secret):
        raise ValidationError(
            {
                f"credentials.{spec.client_id_field}": _(
                    "Enter your app's client id and secret in the channel's credentials first: "
                    "Palabre connects through the organisation's own app on the platform."
                )
            }
        )
    return client_id, secret


def _same_org(actor: Actor, channel: Channel) -> None:
    if channel.organisation_id != actor.organisation.pk:
        raise NotInOrganisation


def authorisation_url(
    *, actor: Actor, channel: Channel, redirect_uri: str, session: MutableMapping[str, Any]
) -> str:
    """Where to send the person to grant Palabre access to the channel's account."""
    actor.require(Perm.CHANNELS_MANAGE)
    _same_org(actor, channel)
    spec = spec_for(channel)
    if spec is None:
        raise ValidationError({"oauth": _("This platform does not connect through an authorisation page.")})
    if actor.user is None:
        raise ValidationError({"oauth": _("Only a person can connect a channel through the platform.")})
    if channel.status == Channel.Status.ARCHIVED:
        raise ValidationError({"oauth": _("This channel is archived.")})
    _check_address(spec.authorize_url)
    client_id, _secret = _app(channel, spec)
    nonce = secrets.token_urlsafe(16)
    state = signing.dumps(
        {"o": actor.organisation.pk, "c": channel.pk, "u": actor.user.pk, "n": nonce}, salt=STATE_SALT
    )
    client = WebApplicationClient(client_id)
    params: list[tuple[str, str]] = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("state", state),
    ]
    if spec.scopes:
        params.append(("scope", spec.scope_separator.join(spec.scopes)))
    verifier = ""
    if spec.pkce:
        verifier = client.create_code_verifier(64)
        params += [
            ("code_challenge", client.create_code_challenge(verifier, "S256")),
            ("code_challenge_method", "S256"),
        ]
    params += list(spec.extra_authorize_params)
    pending = dict(session.get(SESSION_KEY) or {})
    while len(pending) >= MAX_PENDING:
        pending.pop(next(iter(pending)))
    pending[nonce] = {"channel": channel.pk, "verifier": verifier}
    session[SESSION_KEY] = pending
    record(actor, "connectors.oauth_started", channel, after={"scopes": list(spec.scopes)})
    return add_params_to_uri(spec.authorize_url, params)


def _refused_state() -> OAuthRefused:
    return OAuthRefused(
        "bad_state",
        _(
            "This answer from the platform cannot be trusted (it was not asked from this browser, "
            "or was used already): start the connection again from the channel's page."
        ),
    )


def channel_of_state(*, actor: Actor, state: str, session: MutableMapping[str, Any]) -> tuple[Channel, str]:
    """The channel a callback's state names and the PKCE verifier kept for it; the state is spent."""
    try:
        data = signing.loads(state or "", salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.SignatureExpired:
        raise OAuthRefused(
            "expired_state",
            _(
                "The connection took too long (more than %(minutes)s minutes): start it again from "
                "the channel's page."
            )
            % {"minutes": STATE_MAX_AGE // 60},
        ) from None
    except signing.BadSignature:
        raise _refused_state() from None
    if (
        not isinstance(data, dict)
        or data.get("o") != actor.organisation.pk
        or actor.user is None
        or data.get("u") != actor.user.pk
    ):
        raise _refused_state()
    pending = dict(session.get(SESSION_KEY) or {})
    kept = pending.pop(str(data.get("n")), None)
    session[SESSION_KEY] = pending
    if kept is None or kept.get("channel") != data.get("c"):
        raise _refused_state()
    channel = Channel.objects.visible_to(actor).filter(pk=data["c"]).first()
    if channel is None:
        raise _refused_state()
    return channel, str(kept.get("verifier") or "")


def _token_request(spec: OAuthSpec, body: str, client_id: str, secret: str) -> dict[str, Any]:
    """POST a token request (an oauthlib-made body) at the platform's token endpoint; its answer
    read by oauthlib. OAuth2Error when the platform refused; TransientError when it could not say."""
    _check_address(spec.token_url)
    data = dict(parse_qsl(body, keep_blank_values=True))
    auth = None
    if spec.token_auth == "client_secret_basic":
        data.pop("client_secret", None)
        auth = (client_id, secret)
    elif spec.token_auth == "none":
        data.pop("client_secret", None)
    try:
        response = http_client.request(
            "POST", spec.token_url, data=data, auth=auth, headers={"Accept": "application/json"}
        )
    except httpx.HTTPError as error:
        raise TransientError(f"token endpoint unreachable: {error}") from None
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientError(f"token endpoint answered {response.status_code}")
    try:
        token = parse_token_response(response.text)
    except OAuth2Error:
        raise  # the platform's refusal, said in the protocol's words
    except (ValueError, Warning) as error:
        raise TransientError(f"token endpoint answered {response.status_code}: {error}") from None
    return dict(token)


def _platform_error(error: OAuth2Error) -> str:
    return " ".join(part for part in (error.error, error.description or "") if part)[:300]


def complete(
    *,
    actor: Actor,
    params: Mapping[str, str],
    redirect_uri: str,
    session: MutableMapping[str, Any],
    now: datetime,
) -> Channel:
    """The platform sent the person back: check the state, exchange the code, store the
    credentials. OAuthRefused says what went wrong, in the person's language."""
    actor.require(Perm.CHANNELS_MANAGE)
    channel, verifier = channel_of_state(actor=actor, state=params.get("state", ""), session=session)
    try:
        return _complete(actor, channel, verifier, params, redirect_uri, now)
    except OAuthRefused as refused:
        refused.channel = channel
        raise


def _complete(
    actor: Actor, channel: Channel, verifier: str, params: Mapping[str, str], redirect_uri: str, now: datetime
) -> Channel:
    spec = spec_for(channel)
    if spec is None:
        raise OAuthRefused("no_oauth", _("This platform does not connect through an authorisation page."))
    if params.get("error"):
        denied = params["error"] == "access_denied"
        record(actor, "connectors.oauth_failed", channel, after={"error": params["error"][:100]})
        raise OAuthRefused(
            "denied" if denied else "platform_error",
            _("The access was refused on the platform: the channel is not connected.")
            if denied
            else _("The platform stopped the connection: %(error)s.") % {"error": params["error"][:100]},
            params.get("error_description", ""),
        )
    code = params.get("code", "")
    if not code:
        raise OAuthRefused("no_code", _("The platform sent no authorisation code back: start again."))
    try:
        client_id, secret = _app(channel, spec)
    except ValidationError as error:
        raise OAuthRefused("no_app", " ".join(error.messages)) from None
    body = WebApplicationClient(client_id).prepare_request_body(
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=verifier or None,
        include_client_id=True,
        client_secret=secret or None,
    )
    try:
        token = _token_request(spec, body, client_id, secret)
    except OAuth2Error as error:
        record(actor, "connectors.oauth_failed", channel, after={"error": _platform_error(error)})
        raise OAuthRefused(
            "token_error",
            _("The platform refused to give Palabre its access: %(error)s.")
            % {"error": _platform_error(error)},
            error.description or "",
        ) from None
    except TransientError as error:
        record(actor, "connectors.oauth_failed", channel, after={"error": str(error)[:300]})
        raise OAuthRefused(
            "token_unreachable",
            _("The platform's token address did not answer properly: try again in a moment."),
            str(error),
        ) from None
    connector = connector_class_for(channel.platform)()
    new = connector.credentials_from_token(channel, token, now=now)
    kept = {k: v for k, v in channel.read_credentials().items() if k not in TOKEN_KEYS}
    set_channel_credentials(actor=actor, channel=channel, credentials={**kept, **new})
    record(
        actor,
        "connectors.oauth_connected",
        channel,
        after={"scopes": sorted(token.get("scope") or []) if isinstance(token.get("scope"), list) else []},
    )
    return channel


# --- keeping the token fresh ------------------------------------------------------------------


def token_expiry(credentials: Mapping[str, Any]) -> datetime | None:
    """When the stored token expires, as the token endpoint said (`expires_in` at the connection or
    the last renewal); None when it did not say."""
    value = credentials.get("token_expires_at")
    if not value:
        return None
    when = parse_datetime(str(value))
    if when is not None and timezone.is_naive(when):
        when = when.replace(tzinfo=UTC)
    return when


def refresh_due(credentials: Mapping[str, Any], *, now: datetime) -> bool:
    when = token_expiry(credentials)
    return when is not None and when <= now + REFRESH_MARGIN


def fresh_credentials(channel: Channel, *, now: datetime | None = None) -> bool:
    """Renew the channel's token before a call when it is about to expire. True when it was
    renewed (the `channel` object then carries the new credentials); TokenExpired when the
    platform refused: the channel needs someone to reconnect it."""
    connector_class = connector_class_for(channel.platform)
    if connector_class is None or connector_class.oauth is None or not channel.has_credentials:
        return False
    now = now or timezone.now()
    if not refresh_due(channel.read_credentials(), now=now):
        return False
    refused = ""
    with transaction.atomic():
        locked = Channel.objects.select_for_update().select_related("organisation").get(pk=channel.pk)
        credentials = locked.read_credentials()
        if not refresh_due(credentials, now=now):  # another worker renewed it meanwhile
            channel.credentials_ciphertext = locked.credentials_ciphertext
            return False
        actor = Actor.palabre(locked.organisation)
        try:
            new = _refreshed(connector_class(), locked, credentials, now=now)
        except OAuth2Error as error:
            refused = f"the platform refused to renew the token ({_platform_error(error)})"
        except TokenExpired as error:
            refused = str(error)
        if not refused:
            merged = {**credentials, **new}
            if not new.get("refresh_token") and credentials.get("refresh_token"):
                merged["refresh_token"] = credentials["refresh_token"]  # the platform keeps the same one
            locked.credentials_ciphertext = crypto.encrypt_json(merged)
            # A plain update: a renewal is not new credentials (no reset of the channel's schedule,
            # no new connection check).
            Channel.objects.filter(pk=locked.pk).update(
                credentials_ciphertext=locked.credentials_ciphertext, credentials_updated_at=now
            )
            record(
                actor,
                "connectors.token_refreshed",
                locked,
                after={"token_expires_at": str(merged.get("token_expires_at") or "")},
            )
    if refused:
        # Outside the lock's transaction, so the audit stays whatever the caller does next.
        record(actor, "connectors.token_refresh_refused", locked, after={"error": refused[:300]})
        raise TokenExpired(f"{refused}: reconnect the channel")
    channel.credentials_ciphertext = locked.credentials_ciphertext
    channel.credentials_updated_at = now
    return True


def _refreshed(connector, channel: Channel, credentials: Mapping[str, Any], *, now: datetime) -> dict:
    own = getattr(connector, "refresh_credentials", None)
    if callable(own):
        return dict(own(channel))
    spec = connector.oauth
    refresh_token = str(credentials.get("refresh_token") or "")
    if not refresh_token:
        raise TokenExpired("the token expires and the platform gave no refresh token")
    client_id = str(credentials.get(spec.client_id_field) or "")
    secret = str(credentials.get(spec.client_secret_field) or "")
    body = WebApplicationClient(client_id).prepare_refresh_body(
        refresh_token=refresh_token, client_id=client_id, client_secret=secret or None
    )
    token = _token_request(spec, body, client_id, secret)
    return connector.credentials_from_token(channel, token, now=now)
