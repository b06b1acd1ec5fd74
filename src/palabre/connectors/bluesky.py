"""Bluesky, through the atproto SDK: mentions, replies and quotes in, replies and posts out.

Credentials: `{"identifier": "brand.bsky.social", "app_password": "...", "service": "https://bsky.social"}`
(an app password, never the account's main password). The session the SDK gets is kept,
encrypted, in the channel's connection state and refreshed by the SDK, so Palabre does not log in
again at every call (Bluesky limits `createSession` to 30 per 5 minutes).

Pulling reads `app.bsky.notification.listNotifications` (newest first) down to the newest
notification seen last time (the cursor is its `indexedAt`). A reply is an
`app.bsky.feed.post` record created with `com.atproto.repo.createRecord`, with `reply.root` and
`reply.parent` strong references. Bluesky has no idempotency key: after an interruption,
`find_delivered` looks for the post among the account's latest records.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from palabre.connectors import http_client, outbound
from palabre.connectors.base import (
    Capability,
    ChannelHealthInfo,
    Connector,
    CredentialField,
    Delivered,
    FieldKind,
    MalformedPayload,
    Media,
    PermanentError,
    PermissionMissing,
    PullResult,
    RateLimited,
    TokenExpired,
    TransientError,
)
from palabre.connectors.explain import network_reason
from palabre.connectors.search import Candidate, SearchError, SearchMalformed, SearchPage
from palabre.conversations.services import IncomingAuthor, IncomingItem

# The atproto SDK is imported where it is used: importing it takes most of a second of CPU, which
# every Palabre process (each web and worker process, every command) would pay at start-up.
if TYPE_CHECKING:
    from atproto import Client
    from atproto_client.client.session import Session
    from atproto_client.exceptions import AtProtocolError

DEFAULT_SERVICE = "https://bsky.social"
PAGE_SIZE = 50
MAX_PAGES = 10
MAX_GRAPHEMES = 300
REASONS = {"mention": "mention", "reply": "reply", "quote": "mention"}
POST = "app.bsky.feed.post"
# A post created this long before its action was queued is not that action's (clocks differ).
FIND_SKEW = timedelta(minutes=5)


DEFAULT_WEB = "https://bsky.app"


def post_url(uri: str, author: str, web: str = DEFAULT_WEB) -> str:
    """The address, on the web app `web`, of an at:// post URI."""
    rkey = uri.rsplit("/", 1)[-1]
    return f"{web.rstrip('/')}/profile/{author}/post/{rkey}"


def web_of(channel) -> str:
    """The web app where the channel's posts are read (its `web_url`; bsky.app by default)."""
    credentials = channel.read_credentials() if channel.has_credentials else {}
    return str(credentials.get("web_url") or DEFAULT_WEB).rstrip("/")


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def translate(error: AtProtocolError, *, sending: bool = False) -> Exception:
    """The SDK's error as the connector framework's."""
    from atproto_client.exceptions import (
        BadRequestError,
        ModelError,
        NetworkError,
        RateLimitExceededError,
        RequestException,
        UnauthorizedError,
    )

    response = getattr(error, "response", None)
    content = getattr(response, "content", None)
    code = getattr(content, "error", "") or ""
    network = isinstance(error, NetworkError | RequestException) and response is None
    # The SDK's network errors carry no message: say what happened from the exception chain.
    message = getattr(content, "message", "") or str(error).strip() or network_reason(error)
    head = " ".join(str(part) for part in ("Bluesky", getattr(response, "status_code", ""), code) if part)
    text = f"{head}: {message}" if not network else f"Bluesky: {network_reason(error)}"
    if isinstance(error, RateLimitExceededError):
        wait = error.retry_after
        if wait is None and error.reset_at is not None:
            wait = (error.reset_at - datetime.now(UTC)).total_seconds()
        return RateLimited(text, retry_after=max(wait or 300.0, 1.0))
    if isinstance(error, UnauthorizedError):
        if getattr(response, "status_code", 401) == 403:
            return PermissionMissing(text)
        return TokenExpired(text)
    if isinstance(error, BadRequestError):
        if code in {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AccountTakedown"}:
            return TokenExpired(text)
        return PermanentError(text)
    if isinstance(error, NetworkError | RequestException):
        return TransientError(text, maybe_delivered=sending)
    if isinstance(error, ModelError):
        return MalformedPayload(text)
    return TransientError(text, maybe_delivered=sending)


class BlueskyConnector(Connector):
    platform = "bluesky"
    capabilities = frozenset(
        {Capability.PULL, Capability.REPLY, Capability.PUBLISH, Capability.PUBLISH_MEDIA}
    )
    poll_interval = 120.0
    credential_fields = (
        CredentialField(
            "identifier",
            _("Handle"),
            _("The account's handle (e.g. brand.bsky.social or brand.example.com) or its DID."),
            required=True,
        ),
        CredentialField(
            "app_password",
            _("App password"),
            _(
                "Settings > Privacy and security > App passwords > Add app password (never the "
                "account's own password); leave direct messages unticked: Palabre does not read them."
            ),
            kind=FieldKind.SECRET,
            required=True,
        ),
        CredentialField(
            "service",
            _("Server (PDS) address"),
            _(
                "Only when the account is not hosted by Bluesky: its PDS, e.g. https://pds.example.com. "
                "Empty: https://bsky.social."
            ),
            kind=FieldKind.URL,
        ),
        CredentialField(
            "web_url",
            _("Web app address"),
            _(
                "Where people read the brand's posts, for the links Palabre shows: the web app of the "
                "network the brand uses. Empty: https://bsky.app."
            ),
            kind=FieldKind.URL,
        ),
    )

    # --- the client ---------------------------------------------------------------------------

    def addresses(self, channel, credentials) -> list[tuple[str, str]]:
        return [("credentials", str(credentials["service"]))] if credentials.get("service") else []

    def client(self, channel) -> Client:
        from atproto import Client
        from atproto_client.exceptions import AtProtocolError, BadRequestError, UnauthorizedError
        from atproto_client.request import Request

        from palabre.connectors.services import connector_state, save_connector_state

        credentials = channel.read_credentials()
        identifier, password = credentials.get("identifier"), credentials.get("app_password")
        # atproto speaks httpx: its client is given Palabre's guarded transport, so every request
        # (the PDS its session points to and redirects included) goes to a checked, pinned address.
        request = Request(transport=outbound.GuardedTransport(), max_redirects=outbound.MAX_REDIRECTS)
        client = Client(base_url=credentials.get("service") or DEFAULT_SERVICE, request=request)
        client.on_session_change(
            lambda _event, _session: save_connector_state(
                channel, {"session": client.export_session_string()}
            )
        )
        session = connector_state(channel).get("session")
        try:
            if session:
                try:
                    client.login(session_string=session, fetch_bsky_profile=False)
                    return client
                except (BadRequestError, UnauthorizedError):
                    pass  # the saved session is dead: log in again below
            if not identifier or not password:
                raise TokenExpired("The channel has no Bluesky identifier and app password.")
            client.login(identifier, password, fetch_bsky_profile=False)
        except AtProtocolError as error:
            raise translate(error) from error
        except outbound.AddressRefused as error:
            raise PermanentError(str(error)) from error
        except (outbound.TooLarge, outbound.RefusedEncoding) as error:
            raise MalformedPayload(f"Bluesky: {error}") from error
        except httpx.HTTPError as error:
            raise TransientError(f"Bluesky: {network_reason(error)}") from error
        return client

    def _call(self, function, *args, sending: bool = False, **kwargs):
        from atproto_client.exceptions import AtProtocolError

        try:
            with outbound.deadline(http_client.timeout()):  # atproto's timeouts bound each read only
                return function(*args, **kwargs)
        except AtProtocolError as error:
            raise translate(error, sending=sending) from error
        except outbound.AddressRefused as error:  # nothing left: refused before any connection
            raise PermanentError(str(error)) from error
        except (outbound.TooLarge, outbound.RefusedEncoding) as error:
            raise MalformedPayload(f"Bluesky: {error}") from error
        except httpx.HTTPError as error:  # one the SDK let through unwrapped
            raise TransientError(f"Bluesky: {network_reason(error)}", maybe_delivered=sending) from error
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedPayload(f"Unexpected answer from Bluesky: {error!r}") from error

    @staticmethod
    def session_of(client: Client) -> Session:
        from atproto_client.client.session import Session

        return Session.decode(client.export_session_string())

    # --- in -------------------------------------------------------------------------------------

    def pull(self, channel, cursor: str) -> PullResult:
        from atproto import models

        client = self.client(channel)
        web = web_of(channel)
        seen = _parse_time(cursor) if cursor else None
        items: list[IncomingItem] = []
        newest = cursor
        page_cursor = None
        for _page in range(MAX_PAGES):
            params = models.AppBskyNotificationListNotifications.Params(
                limit=PAGE_SIZE, reasons=sorted(REASONS), cursor=page_cursor
            )
            page = self._call(client.app.bsky.notification.list_notifications, params)
            reached_seen = False
            for notification in page.notifications:
                indexed = _parse_time(notification.indexed_at)
                if seen is not None and indexed <= seen:
                    reached_seen = True
                    continue
                if not newest or indexed > _parse_time(newest):
                    newest = notification.indexed_at
                items.extend(self.parse_notification(notification, web=web))
            page_cursor = page.cursor
            if reached_seen or not page_cursor or seen is None or not page.notifications:
                break
        return PullResult(items=items, cursor=newest or "")

    def parse_notification(self, notification, *, web: str = DEFAULT_WEB) -> list[IncomingItem]:
        try:
            kind = REASONS.get(notification.reason)
            if kind is None:
                return []
            record = notification.record
            text = record.text
            reply = getattr(record, "reply", None)
            author = notification.author
            handle = author.handle
            root = {"uri": reply.root.uri, "cid": reply.root.cid} if reply else None
            return [
                IncomingItem(
                    external_id=notification.uri,
                    kind="reply" if reply is not None else kind,
                    text=text,
                    created_at=_parse_time(record.created_at),
                    author=IncomingAuthor(
                        handle=handle,
                        display_name=author.display_name or handle,
                        profile_url=f"{web}/profile/{handle}",
                    ),
                    url=post_url(notification.uri, handle, web),
                    language=(record.langs or [""])[0][:8],
                    parent_external_id=reply.parent.uri if reply is not None else "",
                    raw={
                        "cid": notification.cid,
                        "reason": notification.reason,
                        "author_did": author.did,
                        "reply_root": root,
                        "indexed_at": notification.indexed_at,
                    },
                )
            ]
        except (AttributeError, TypeError, ValueError) as error:
            raise MalformedPayload(
                f"A Bluesky notification lacks what its lexicon requires: {error}"
            ) from error

    # --- out ------------------------------------------------------------------------------------

    def _post(self, channel, client: Client, text: str, reply_to=None, langs=None, embed=None) -> Delivered:
        if len(text) > MAX_GRAPHEMES:
            raise PermanentError(f"Bluesky posts are limited to {MAX_GRAPHEMES} characters.")
        repo = self.session_of(client).did
        created = self._call(
            client.send_post,
            text,
            profile_identify=repo,
            reply_to=reply_to,
            langs=langs,
            embed=embed,
            sending=True,
        )
        return Delivered(
            external_id=created.uri, url=post_url(created.uri, channel.handle.lstrip("@"), web_of(channel))
        )

    def reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        from atproto import models

        raw = in_reply_to.raw or {}
        if not raw.get("cid"):
            raise PermanentError(
                "This Bluesky post was stored without its content id: it cannot be answered."
            )
        parent = models.ComAtprotoRepoStrongRef.Main(uri=in_reply_to.external_id, cid=raw["cid"])
        root_ref = raw.get("reply_root") or {"uri": in_reply_to.external_id, "cid": raw["cid"]}
        root = models.ComAtprotoRepoStrongRef.Main(uri=root_ref["uri"], cid=root_ref["cid"])
        client = self.client(channel)
        langs = [in_reply_to.language] if in_reply_to.language else None
        return self._post(
            channel,
            client,
            text,
            reply_to=models.AppBskyFeedPost.ReplyRef(parent=parent, root=root),
            langs=langs,
        )

    def publish(self, channel, *, text: str, media: Sequence[Media] = (), idempotency_key: str) -> Delivered:
        from atproto import models

        client = self.client(channel)
        embed = None
        if media:
            images = []
            for one in media[:4]:
                blob = self._call(client.upload_blob, one.content)
                images.append(models.AppBskyEmbedImages.Image(alt=one.description or "", image=blob.blob))
            embed = models.AppBskyEmbedImages.Main(images=images)
        return self._post(channel, client, text, embed=embed)

    def find_delivered(self, channel, idempotency_key: str) -> Delivered | None:
        """An interrupted attempt's post, found among the account's latest records by its text and
        parent, created since the action was queued and no other action's."""
        from atproto import models

        from palabre.connectors.models import OutboundAction

        action = OutboundAction.objects.select_related("item").for_key(channel, idempotency_key).first()
        if action is None:
            return None
        client = self.client(channel)
        repo = self.session_of(client).did
        listed = self._call(
            client.com.atproto.repo.list_records,
            models.ComAtprotoRepoListRecords.Params(repo=repo, collection=POST, limit=50),
        )
        parent_uri = action.item.external_id if action.item is not None else None
        # Not a twin: the same words said earlier to the same post, or another action's post.
        taken = set(
            OutboundAction.objects.filter(
                channel=channel, external_id__in=[record.uri for record in listed.records]
            )
            .exclude(pk=action.pk)
            .values_list("external_id", flat=True)
        )
        since = action.created_at - FIND_SKEW
        for record in listed.records:
            value: Any = record.value
            reply = getattr(value, "reply", None)
            if getattr(value, "text", None) != action.text or record.uri in taken:
                continue
            created = getattr(value, "created_at", None)
            try:
                if created and _parse_time(str(created)) < since:
                    continue
            except ValueError as error:
                raise MalformedPayload(f"A Bluesky record has an unreadable date: {error}") from error
            if (reply.parent.uri if reply is not None else None) == parent_uri:
                return Delivered(
                    external_id=record.uri,
                    url=post_url(record.uri, channel.handle.lstrip("@"), web_of(channel)),
                )
        return None

    def health(self, channel) -> ChannelHealthInfo:
        """The account and what its app password may do. No expiry to report: with its app
        password, the channel logs in again whenever the session ends.

        `com.atproto.server.createSession` answers no list of permissions; the session's access
        token says what kind of password opened it, in its `scope` claim (the PDS's legacy auth
        scopes): `com.atproto.appPass` for an app password, `com.atproto.appPassPrivileged` for one
        that may also reach direct messages (chat.bsky.*), `com.atproto.access` for the account's
        own password, `com.atproto.signupQueued` for an account still waiting to be let in, and
        `com.atproto.takendown` for one taken down. The token is only read here, not trusted for
        anything: the PDS checks it on every call."""
        session = self.session_of(self.client(channel))
        scope = session_scope(session.access_jwt)
        account = f"@{session.handle}"
        if scope == MAIN_PASSWORD:
            raise PermanentError(
                "Bluesky: these credentials are the account's own password, not an app password. "
                "Create an app password (Settings > Privacy and security > App passwords) and "
                "replace the channel's credentials with it."
            )
        if scope == TAKEN_DOWN:
            raise PermanentError(
                "Bluesky: the account is taken down by its server; it can neither read nor post."
            )
        asked = asked_permissions(self)
        if scope is None or scope not in PASSWORD_GRANTS:
            return ChannelHealthInfo(
                account=account,
                details={"did": session.did},
                permissions_checked="partial",
                permissions_note=(
                    f"The server's session does not say what these credentials may do (scope: {scope or 'none'})."
                ),
            )
        missing = [permission for permission in asked if permission not in PASSWORD_GRANTS[scope]]
        if missing:
            raise PermissionMissing(
                "Bluesky: the session ("
                + scope
                + ") does not allow "
                + ", ".join(missing)
                + "."
                + (
                    " The account is still waiting to be let in by its server."
                    if scope == SIGNUP_QUEUED
                    else ""
                )
            )
        return ChannelHealthInfo(
            account=account,
            scopes=(scope,),
            details={"did": session.did},
            permissions_checked="verified",
        )


# What a password of each kind may do, as the PDS grants it (see `BlueskyConnector.health`).
MAIN_PASSWORD = "com.atproto.access"
APP_PASSWORD = "com.atproto.appPass"
PRIVILEGED_APP_PASSWORD = "com.atproto.appPassPrivileged"
SIGNUP_QUEUED = "com.atproto.signupQueued"
TAKEN_DOWN = "com.atproto.takendown"
PASSWORD_GRANTS: dict[str, frozenset[str]] = {
    APP_PASSWORD: frozenset({"read", "reply", "publish"}),
    PRIVILEGED_APP_PASSWORD: frozenset({"read", "reply", "publish", "direct_messages"}),
    SIGNUP_QUEUED: frozenset(),
}
# The permission each capability needs. Direct messages (chat.bsky.*, only with a privileged app
# password) are not among them: Palabre does not read Bluesky's direct messages, so an ordinary
# app password is the right one.
CAPABILITY_PERMISSIONS = {Capability.PULL: "read", Capability.REPLY: "reply", Capability.PUBLISH: "publish"}


def asked_permissions(connector: Connector) -> list[str]:
    """What the channel will be asked to do, from what its connector declares."""
    return [
        permission
        for capability, permission in CAPABILITY_PERMISSIONS.items()
        if connector.supports(capability)
    ]


def session_scope(access_jwt: str) -> str | None:
    """The `scope` claim of a session's access token (None when it cannot be read)."""
    from atproto_server.auth.jwt import TokenDecodeError, get_jwt_payload

    try:
        return get_jwt_payload(access_jwt).scope or None
    except (TokenDecodeError, ValueError):
        return None


# --- listening: Bluesky's Jetstream read for mentions ------------------------------------------------

JETSTREAM_DEFAULT = "wss://jetstream2.us-east.bsky.network/subscribe"


def _frame_time(value: Any) -> datetime | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    try:
        return _parse_time(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def jetstream_candidate(frame: dict) -> Candidate | None:
    """A Jetstream frame (as its README documents it) as a candidate: new posts only."""
    if frame.get("kind") != "commit":
        return None
    commit = frame.get("commit")
    if not isinstance(commit, dict):
        raise SearchMalformed(gettext("A Jetstream commit frame without commit."))
    if commit.get("operation") != "create" or commit.get("collection") != POST:
        return None
    record = commit.get("record") or {}
    did, rkey = frame.get("did"), commit.get("rkey")
    if not did or not rkey or not isinstance(record, dict):
        raise SearchMalformed(gettext("A Jetstream post without author or key."))
    published = _frame_time(record.get("createdAt")) or _frame_time(frame.get("time_us", 0) / 1_000_000)
    langs = record.get("langs") or []
    uri = f"at://{did}/{POST}/{rkey}"
    return Candidate(
        external_id=uri,
        text=str(record.get("text") or ""),
        published_at=published,
        url=post_url(uri, did),
        author=did,
        language=(langs[0] if langs else "")[:8],
        domain="bsky.app",
    )


def parse_jetstream_frames(frames: list[str | bytes]) -> tuple[list[Candidate], int | None]:
    """Candidates of a batch of frames and the last `time_us` (the cursor to resume from)."""
    candidates, last = [], None
    for raw in frames:
        try:
            frame = json.loads(raw)
        except (TypeError, ValueError) as error:
            raise SearchMalformed(gettext("A Jetstream frame is not JSON.")) from error
        if not isinstance(frame, dict) or not isinstance(frame.get("time_us"), int):
            raise SearchMalformed(gettext("A Jetstream frame without time_us."))
        last = frame["time_us"]
        candidate = jetstream_candidate(frame)
        if candidate is not None and candidate.text:
            candidates.append(candidate)
    return candidates, last


def search_jetstream(config: dict, cursor: dict) -> SearchPage:
    """New posts from the Jetstream since the cursor's `time_us`, for at most `max_seconds` or
    `max_events` frames."""
    from websockets.exceptions import WebSocketException
    from websockets.sync.client import connect

    params = {"wantedCollections": POST}
    if cursor.get("time_us"):
        params["cursor"] = str(cursor["time_us"])
    url = f"{config.get('endpoint') or JETSTREAM_DEFAULT}?{urlencode(params)}"
    wait = http_client.timeout()
    try:
        # websockets is handed a connection the address guard opened to a checked address (it keeps
        # the name for TLS and the Host header).
        sock = outbound.open_socket(url, timeout=wait)
    except httpx.HTTPError as error:
        raise SearchError(gettext("Could not read the Jetstream: %(error)s") % {"error": error}) from error
    frames: list[str] = []
    deadline = time.monotonic() + config.get("max_seconds", 20)
    try:
        with connect(
            url, sock=sock, open_timeout=wait, user_agent_header=http_client.USER_AGENT, max_size=2**20
        ) as socket:
            while len(frames) < config.get("max_events", 5000):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    frames.append(socket.recv(timeout=remaining))
                except TimeoutError:
                    break
    except (OSError, WebSocketException) as error:
        if not frames:
            raise SearchError(
                gettext("Could not read the Jetstream: %(error)s") % {"error": error}
            ) from error
    candidates, last = parse_jetstream_frames(frames)
    return SearchPage(candidates, {"time_us": last} if last else dict(cursor))
