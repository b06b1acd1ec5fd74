"""The one small interface every platform implements, and what it hands back.

Contract (read by the inbox and publishing apps; keep it short and stable)
--------------------------------------------------------------------------
- A connector is a class with `platform` (a `palabre.orgs.models.Platform` value) and
  `capabilities` (a frozenset of `Capability`) declared once on the class. It holds no state
  between calls: every method receives the `orgs.Channel` it works for and reads the channel's
  credentials with `channel.read_credentials()` and its settings from `channel.options`.
  `registry.connector_for(channel)` gives the connector of a channel.
- In: `pull(channel, cursor)` returns `PullResult(items, cursor)`: the new items since `cursor`
  (an opaque string the connector wrote last time; "" the first time) and the cursor to save.
  Webhooks: `verify_webhook(channel, headers, body)` checks the signature (False: refused with 401),
  then `parse_webhook(channel, body)` turns the payload into items; a platform that checks the
  address first with a GET gets `verify_subscription(channel, query)`'s answer. Items are
  `conversations.services.IncomingItem`s; the framework stores them with `ingest_item`, which is
  idempotent on (channel, external id), so pulling or receiving twice never duplicates.
- Out: `reply(channel, in_reply_to=item, text=..., idempotency_key=...)` and
  `publish(channel, text=..., media=..., idempotency_key=...)` return `Delivered(external_id, url)`;
  `hide(channel, item)` and `delete(channel, item)` return nothing. Never call them directly from
  a view: queue an `OutboundAction` with `connectors.services.queue_reply` /
  `queue_publication` / `queue_hide` / `queue_delete`; the delivery task applies the per-channel
  rate limit, retries with backoff, and delivers exactly once.
- Exactly once: `idempotent_delivery = True` on a connector whose platform drops a second request
  carrying the same idempotency key (Mastodon's `Idempotency-Key`). Otherwise a connector may
  implement `find_delivered(channel, idempotency_key)` (look the message up on the platform);
  when neither is possible, an attempt that may have reached the platform is marked `needs_check`
  for a person, never sent twice blindly.
- Errors: raise a `ConnectorError` subclass. `RateLimited(retry_after)` and `TransientError` are
  retried later (with `maybe_delivered=True` when the request may have reached the platform);
  `TokenExpired`, `PermissionMissing`, `PermanentError`, `MalformedPayload` and `BadSignature`
  are not retried automatically: the action is `failed`, visible, and can be retried by hand.
- Credentials: `credential_fields` declares each field a channel's credentials may carry (name,
  kind, secret or not, required or not, help saying where to find it on the platform); what a
  person types is checked against it (`connectors.credentials.clean`) before it is stored, and
  the API and the forms show it. `()` declares that it takes none.
- Options: `option_fields` declares the settings of a channel kept in `channel.options` that an
  organisation's admin may change on the channel's Options page (YouTube's privacy of uploads,
  the subreddit a Reddit channel moderates, X's access tier), declared and checked as credential fields are.
- `health(channel)` returns `ChannelHealthInfo` (account, token expiry, granted scopes) where the
  platform tells; the framework keeps last success/error and failure counts itself. It is the
  connection check run when credentials are saved: it raises `PermissionMissing` naming what the
  credentials cannot do of what the channel will be asked to do, and says when it could check
  that only in part (`permissions_checked="partial"`) rather than claim success.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from palabre.conversations.models import Item
    from palabre.conversations.services import IncomingItem
    from palabre.orgs.models import Channel


def scope_text(scope: Any) -> str:
    """The scopes a token answer granted, as one space-separated string: the token endpoint sends a
    string, but the OAuth flow hands connectors oauthlib's parsed token, where it is a list."""
    if isinstance(scope, (list, tuple, set, frozenset)):
        return " ".join(str(one) for one in scope)
    return str(scope or "")


class Capability(StrEnum):
    PULL = "pull"
    WEBHOOK = "webhook"
    REPLY = "reply"
    # Answer the author in private (Messenger, an Instagram or X direct message, a Discord DM).
    PRIVATE_REPLY = "private_reply"
    PUBLISH = "publish"
    # Publish with pictures or video (`media` given to `publish`).
    PUBLISH_MEDIA = "publish_media"
    HIDE = "hide"
    # Show again what was hidden (or approve what the platform held).
    UNHIDE = "unhide"
    DELETE = "delete"
    # Keep the author out: ban, silence, timeout or kick, as the platform offers.
    BAN_AUTHOR = "ban_author"
    # A search of the whole platform for listening (`connectors.search`).
    SEARCH = "search"

    @property
    def label(self) -> str:
        """What the capability lets a person do, in their language (the channel page lists them)."""
        return CAPABILITY_LABELS[self]


CAPABILITY_LABELS = {
    Capability.PULL: pgettext_lazy("capability", "Fetch messages"),
    Capability.WEBHOOK: pgettext_lazy("capability", "Receive webhooks"),
    Capability.REPLY: pgettext_lazy("capability", "Reply"),
    Capability.PRIVATE_REPLY: pgettext_lazy("capability", "Reply in private"),
    Capability.PUBLISH: pgettext_lazy("capability", "Publish"),
    Capability.PUBLISH_MEDIA: pgettext_lazy("capability", "Publish pictures or video"),
    Capability.HIDE: pgettext_lazy("capability", "Hide"),
    Capability.UNHIDE: pgettext_lazy("capability", "Show again"),
    Capability.DELETE: pgettext_lazy("capability", "Delete"),
    Capability.BAN_AUTHOR: pgettext_lazy("capability", "Ban the author"),
    Capability.SEARCH: pgettext_lazy("capability", "Search the platform"),
}


@dataclass(frozen=True)
class OAuthSpec:
    """How a platform's OAuth 2.0 authorisation-code flow is reached: the connection flow
    (`connectors.oauth`) sends the person to `authorize_url` and exchanges the code at
    `token_url`. The app's client id and secret are fields of the channel's credentials
    (`client_id_field`, `client_secret_field`), so each organisation uses its own app."""

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...] = ()
    pkce: bool = False
    scope_separator: str = " "
    client_id_field: str = "client_id"
    client_secret_field: str = "client_secret"
    # Sent as they are with the authorisation request (access_type=offline, prompt=consent...).
    extra_authorize_params: tuple[tuple[str, str], ...] = ()
    # How the app proves itself at `token_url`: "client_secret_post" (id and secret in the form),
    # "client_secret_basic" (HTTP Basic, as Reddit and X ask) or "none" (a public client: PKCE only).
    token_auth: str = "client_secret_post"


@dataclass(frozen=True)
class PullResult:
    items: list[IncomingItem]
    cursor: str


@dataclass(frozen=True)
class Delivered:
    """Where a reply or publication now lives on the platform."""

    external_id: str
    url: str = ""


@dataclass(frozen=True)
class ChannelHealthInfo:
    """What the platform says about the connection (anything it does not tell stays empty)."""

    account: str = ""
    token_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    # How far the check covered what the channel will be asked to do: "verified" (the platform
    # told what the credentials may do, and it is enough), "partial" (it told only part of it:
    # `permissions_note` says which, in English, as a stored error's detail), "" (nothing to check
    # beyond the login: a feed, the site's own comments).
    permissions_checked: str = ""
    permissions_note: str = ""


@dataclass(frozen=True)
class Media:
    """A file to publish with a post: its bytes, type and text alternative."""

    content: bytes
    mime_type: str
    description: str = ""
    filename: str = ""


class FieldKind(StrEnum):
    TEXT = "text"
    SECRET = "secret"
    URL = "url"
    INTEGER = "integer"
    CHOICE = "choice"


@dataclass(frozen=True)
class CredentialField:
    """One field of a channel's credentials. `label` and `help` are lazy translations; `help` says
    where to find the value on the platform."""

    name: str
    label: Any
    help: Any = ""
    kind: FieldKind = FieldKind.TEXT
    required: bool = False
    choices: tuple[str, ...] = ()

    @property
    def secret(self) -> bool:
        return self.kind == FieldKind.SECRET


# --- errors ------------------------------------------------------------------------------------


class ConnectorError(Exception):
    """A platform call that did not do what was asked. `retryable`: worth trying again by itself."""

    retryable: ClassVar[bool] = False
    code: ClassVar[str] = "error"

    def __init__(self, message: str = "", *, maybe_delivered: bool = False) -> None:
        super().__init__(message or self.__class__.__name__)
        # True when the request may have reached the platform before it failed (a timeout after
        # sending): resending could post twice.
        self.maybe_delivered = maybe_delivered


class RateLimited(ConnectorError):
    retryable = True
    code = "rate_limited"

    def __init__(self, message: str = "", *, retry_after: float = 60.0, maybe_delivered: bool = False):
        super().__init__(message, maybe_delivered=maybe_delivered)
        self.retry_after = max(float(retry_after), 0.0)


class TransientError(ConnectorError):
    """Network trouble, a 5xx, a timeout: try again later."""

    retryable = True
    code = "transient"


class PermanentError(ConnectorError):
    """The platform refused for good (a deleted parent, a text it rejects)."""

    code = "permanent"


class TokenExpired(PermanentError):
    """The credentials are expired or revoked: someone must reconnect the channel."""

    code = "token_expired"


class PermissionMissing(PermanentError):
    """The token lacks a scope the call needs."""

    code = "permission_missing"


class MalformedPayload(PermanentError):
    """What the platform sent (or a webhook carried) is not what its documentation describes."""

    code = "malformed_payload"


class BadSignature(PermanentError):
    """A webhook whose signature does not match the channel's secret."""

    code = "bad_signature"


class NotSupported(PermanentError):
    """The connector does not declare the capability asked for."""

    code = "not_supported"


# --- the interface -------------------------------------------------------------------------------


class Connector:
    """One platform. Subclasses declare `platform` and `capabilities`, and implement those methods."""

    platform: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # The platform itself drops a repeated request carrying the same idempotency key.
    idempotent_delivery: ClassVar[bool] = False
    # How often a channel is pulled when nothing says otherwise (seconds).
    poll_interval: ClassVar[float] = 300.0
    # What its credentials may carry: () takes none; None (a connector that declares nothing)
    # stores what it is given unchecked.
    credential_fields: ClassVar[tuple[CredentialField, ...] | None] = None
    # The channel's settings kept in `channel.options` that an admin may change (its Options page).
    option_fields: ClassVar[tuple[CredentialField, ...]] = ()
    # Set where the platform connects through OAuth 2.0 (see `OAuthSpec`).
    oauth: ClassVar[OAuthSpec | None] = None
    # Set where a long-lived process of the connector's own (a bot) must run for the channel to
    # work: it writes a heartbeat (ChannelSync.heartbeat_at) this often (seconds), and the channel
    # reads as not connected once the heartbeat is older than a few intervals.
    heartbeat_seconds: ClassVar[float | None] = None

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @property
    def answers_subscription(self) -> bool:
        return type(self).verify_subscription is not Connector.verify_subscription

    @property
    def can_find_delivered(self) -> bool:
        return type(self).find_delivered is not Connector.find_delivered

    def addresses(self, channel: Channel, credentials: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The URLs this channel makes Palabre connect to, each with the field it is typed in
        ("handle", "credentials"): checked by the address guard when they are entered."""
        return []

    def _unsupported(self, capability: Capability) -> NotSupported:
        return NotSupported(f"{self.platform} does not support {capability.value}")

    # in
    def pull(self, channel: Channel, cursor: str) -> PullResult:
        raise self._unsupported(Capability.PULL)

    def verify_webhook(self, channel: Channel, headers: Mapping[str, str], body: bytes) -> bool:
        raise self._unsupported(Capability.WEBHOOK)

    def parse_webhook(self, channel: Channel, body: bytes) -> list[IncomingItem]:
        raise self._unsupported(Capability.WEBHOOK)

    def verify_subscription(self, channel: Channel, query: Mapping[str, str]) -> str | None:
        """A platform that checks a webhook address before it sends events (Meta's GET with
        `hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`): the text to answer with 200,
        or None (refused with 403). `query` is the GET's query string."""
        return None

    # out
    def reply_text(self, in_reply_to: Item, text: str) -> str:
        """The text a reply carries once on the platform (a connector may add a mention), so its
        length can be checked before it is queued."""
        return text

    def reply(self, channel: Channel, *, in_reply_to: Item, text: str, idempotency_key: str) -> Delivered:
        raise self._unsupported(Capability.REPLY)

    def publish(
        self, channel: Channel, *, text: str, media: Sequence[Media] = (), idempotency_key: str
    ) -> Delivered:
        raise self._unsupported(Capability.PUBLISH)

    def private_reply(
        self, channel: Channel, *, in_reply_to: Item, text: str, idempotency_key: str
    ) -> Delivered:
        raise self._unsupported(Capability.PRIVATE_REPLY)

    def hide(self, channel: Channel, item: Item) -> None:
        raise self._unsupported(Capability.HIDE)

    def unhide(self, channel: Channel, item: Item) -> None:
        raise self._unsupported(Capability.UNHIDE)

    def delete(self, channel: Channel, item: Item) -> None:
        raise self._unsupported(Capability.DELETE)

    def ban_author(self, channel: Channel, item: Item) -> None:
        raise self._unsupported(Capability.BAN_AUTHOR)

    # connection
    def authorised(self, credentials: Mapping[str, Any]) -> bool:
        """An OAuth connector's stored credentials let it act (the flow gave a token). A platform
        with another way in besides its OAuth flow (Reddit's script app) overrides this."""
        return bool(credentials.get("access_token"))

    def credentials_from_token(
        self, channel: Channel, token: Mapping[str, Any], *, now: datetime
    ) -> dict[str, Any]:
        """The credentials to store once the OAuth flow returned `token` (the token endpoint's
        JSON). A platform that trades the token for another (a long-lived one, a Page token)
        overrides this."""
        credentials = {"access_token": token["access_token"]}
        if token.get("refresh_token"):
            credentials["refresh_token"] = token["refresh_token"]
        if token.get("expires_in"):
            credentials["token_expires_at"] = (now + timedelta(seconds=int(token["expires_in"]))).isoformat()
        return credentials

    def find_delivered(self, channel: Channel, idempotency_key: str) -> Delivered | None:
        """The reply or post an earlier attempt with this key made, or None if it made none."""
        raise NotImplementedError

    def health(self, channel: Channel) -> ChannelHealthInfo:
        return ChannelHealthInfo()
