"""YouTube, through Google's client (google-api-python-client): comments on the brand's videos in,
replies and moderation out, each call counted against the project's daily quota.

Credentials come from the OAuth 2.0 flow (`oauth` below: Google's endpoints, the scope
`youtube.force-ssl`, offline access so a refresh token comes back): `access_token`,
`refresh_token`, `token_expires_at`, with the Google Cloud project's `client_id` and
`client_secret`. The standard refresh_token grant renews the token: nothing YouTube-specific.

The client is built from the discovery document shipped with the package
(`discovery_cache.get_static_doc`: no network at build time). Its requests go through `GuardedHttp`, an
httplib2-shaped object that sends them with Palabre's one HTTP client (the address guard, the
timeout, the User-Agent) and adds the bearer token. The API's address is Google's unless the
channel's `options["api_base_url"]` names another one (a test server, a proxy), given to the client
as `client_options.api_endpoint`, which is the client's own way to point at another host.

In: `commentThreads.list` with `allThreadsRelatedToChannelId` (every video of the channel and the
channel itself), newest first, page after page (`pageToken`) down to the newest comment seen last
time, once for published threads and once for those YouTube holds for review
(`moderationStatus=heldForReview`). A thread's top-level comment is a `comment`; its replies are
`reply` items whose parent is the top-level comment (YouTube threads are one level deep).

Out: `comments.insert` with `snippet.parentId` (always the thread's top-level comment).
Moderation is `comments.setModerationStatus`: hide holds the comment for review (`heldForReview`),
unhide publishes it, ban_author rejects it with `banAuthor=true`. Hiding holds rather than rejects
because a held comment stays in YouTube Studio's "Held for review" tab, where the team sees it,
and in the API's held listing, so a restore can find it again; a rejected one also hides every
reply under it and the API cannot list rejected comments. Delete uses `comments.delete` for the
channel's own comments (YouTube lets only the author delete one) and rejects anyone else's (the
owner's "Remove").

The package by sub-domain: `quota` (the daily units, counted before each call), `upload`
(publishing a video, and finding an interrupted upload again), `client` (Google's client sending
through Palabre's HTTP client)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from django.utils import timezone
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
    OAuthSpec,
    PermanentError,
    PermissionMissing,
    PullResult,
    RateLimited,
    TokenExpired,
    TransientError,
)
from palabre.connectors.explain import network_reason
from palabre.connectors.text import aware
from palabre.connectors.youtube.client import GuardedHttp
from palabre.connectors.youtube.quota import quota_spent, quota_today, spend, until_pacific_midnight
from palabre.connectors.youtube.upload import PRIVACY_STATUSES, VideoPublishing, upload_tag
from palabre.conversations.services import IncomingAuthor, IncomingItem

if TYPE_CHECKING:
    from googleapiclient.errors import HttpError

__all__ = ["SCOPE", "YouTubeConnector", "quota_today", "until_pacific_midnight", "upload_tag"]

SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
TOKEN_INFO_URL = "https://oauth2.googleapis.com/tokeninfo"
PAGE_SIZE = 100
MAX_PAGES = 5
# The two listings a pull reads, each with its own watermark in the cursor.
LISTINGS = ("published", "heldForReview")
# A comment published this long before its action was queued is not that action's (clocks differ).
FIND_SKEW = timedelta(minutes=5)


class YouTubeConnector(VideoPublishing, Connector):
    platform = "youtube"
    capabilities = frozenset(
        {
            Capability.PULL,
            Capability.REPLY,
            Capability.HIDE,
            Capability.UNHIDE,
            Capability.DELETE,
            Capability.BAN_AUTHOR,
            Capability.PUBLISH,
            Capability.PUBLISH_MEDIA,
        }
    )
    # Each pull costs at least two units (the published and the held listings).
    poll_interval = 600.0
    oauth = OAuthSpec(
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        scopes=(SCOPE,),
        pkce=True,
        # A refresh token comes back only with offline access, and again on each consent.
        extra_authorize_params=(("access_type", "offline"), ("prompt", "consent")),
    )
    option_fields = (
        CredentialField(
            "privacy_status",
            _("Privacy of published videos"),
            _("private unless you choose otherwise: a video made public by mistake cannot be unseen."),
            kind=FieldKind.CHOICE,
            choices=PRIVACY_STATUSES,
        ),
    )
    credential_fields = (
        CredentialField(
            "client_id",
            _("OAuth client id"),
            _(
                "Google Cloud console > APIs & Services > Credentials > OAuth 2.0 Client IDs (a "
                "“Web application” client whose authorised redirect URI is the one this page shows)."
            ),
            required=True,
        ),
        CredentialField(
            "client_secret",
            _("OAuth client secret"),
            _("The same OAuth client's secret, in the Google Cloud console."),
            kind=FieldKind.SECRET,
            required=True,
        ),
        CredentialField(
            "access_token",
            _("Access token"),
            _("Filled in by “Connect with YouTube”: sign in with the Google account that owns the channel."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "refresh_token",
            _("Refresh token"),
            _("Filled in by “Connect with YouTube” (Google gives one with offline access)."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "token_expires_at",
            _("Token expiry"),
            _("Filled in by “Connect with YouTube”."),
        ),
        CredentialField(
            "channel_id",
            _("YouTube channel id"),
            _(
                "Optional: the channel's id (UC…, YouTube Studio > Settings > Channel); asked from YouTube when empty."
            ),
        ),
        CredentialField(
            "daily_quota",
            _("Daily quota (units)"),
            _(
                "Optional: the project's daily YouTube Data API quota, as the Google Cloud console shows "
                "it under Quotas (10000 by default)."
            ),
            kind=FieldKind.INTEGER,
        ),
    )

    # --- the client ---------------------------------------------------------------------------

    def addresses(self, channel, credentials) -> list[tuple[str, str]]:
        base = (channel.options or {}).get("api_base_url")
        return [("options", str(base))] if base else []

    def service(self, channel):
        credentials = channel.read_credentials() if channel.has_credentials else {}
        token = credentials.get("access_token")
        if not token:
            raise TokenExpired("The channel has no YouTube access token: connect it with YouTube.")
        options = {}
        base = (channel.options or {}).get("api_base_url")
        if base:
            try:
                outbound.checked_base_url(base)
            except outbound.AddressRefused as error:
                raise PermanentError(str(error)) from error
            except httpx.HTTPError as error:
                raise TransientError(str(error)) from error
            options["api_endpoint"] = base.rstrip("/") + "/"
        # Google's client (0.17 s of CPU to import) is loaded when YouTube is called, not at start-up.
        from googleapiclient import discovery, discovery_cache

        document = json.loads(discovery_cache.get_static_doc("youtube", "v3"))
        if options:
            # The client keeps the document's scheme for media uploads (https) when only
            # `api_endpoint` moves: the root URL moves with it so that uploads go there too.
            document["rootUrl"] = options["api_endpoint"]
        return discovery.build_from_document(
            document, http=GuardedHttp(str(token)), client_options=options or None
        )

    def _call(self, channel, request, method: str, *, sending: bool = False) -> dict:
        """Execute one request of the client, its cost counted first, its errors as ours."""
        from googleapiclient.errors import Error as GoogleClientError
        from googleapiclient.errors import HttpError

        spend(channel, method)
        try:
            answer = request.execute()
        except HttpError as error:
            raise self._translate(channel, error, method, sending=sending) from error
        except httpx.TimeoutException as error:
            raise TransientError(f"YouTube: {network_reason(error)}", maybe_delivered=sending) from error
        except outbound.AddressRefused as error:
            raise PermanentError(str(error)) from error
        except (http_client.TooLarge, outbound.RefusedEncoding) as error:
            raise MalformedPayload(f"YouTube: {error}") from error
        except (httpx.HTTPError, OSError) as error:
            # Not sent at all when the connection could not be made.
            maybe = sending and not isinstance(error, httpx.ConnectError)
            raise TransientError(f"YouTube: {network_reason(error)}", maybe_delivered=maybe) from error
        except GoogleClientError as error:
            raise MalformedPayload(f"YouTube: {error}") from error
        if answer is None or answer == "":  # 204 No Content: done
            return {}
        if not isinstance(answer, dict):
            raise MalformedPayload(f"YouTube's answer to {method} is not an object.")
        return answer

    def _translate(self, channel, error: HttpError, method: str, *, sending: bool):
        status = error.resp.status
        message, reason = http_client.error_detail(http_client.json_or_none(error.content or b""))
        text = f"YouTube {status} {reason}: {message or error.reason}".replace("  ", " ")
        if reason in {"quotaExceeded", "dailyLimitExceeded"}:
            quota_spent(channel)
            wait = until_pacific_midnight(timezone.now())
            return RateLimited(
                f"{text} (the daily quota comes back at midnight Pacific time)", retry_after=wait
            )
        if reason in {"rateLimitExceeded", "userRateLimitExceeded"}:
            status = 429  # Google says it with a 403
        elif status == 401:
            text = f"{text} (reconnect the channel with YouTube)"
        elif status == 403 and reason in {
            "insufficientPermissions",
            "forbidden",
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        }:
            text = f"{text} (the token needs the scope {SCOPE}, for {method})"
        return http_client.status_error(
            status, text, sending=sending, retry_after=http_client.retry_after(error.resp or {})
        )

    def youtube_channel_id(self, channel, api=None) -> str:
        """The brand's YouTube channel id: typed in, or asked once (`channels.list mine=true`) and kept."""
        credentials = channel.read_credentials() if channel.has_credentials else {}
        if credentials.get("channel_id"):
            return str(credentials["channel_id"])
        from palabre.connectors.services import connector_state, save_connector_state

        state = connector_state(channel)
        if state.get("channel_id"):
            return str(state["channel_id"])
        api = api or self.service(channel)
        mine = self._mine(channel, api)
        save_connector_state(channel, {**state, "channel_id": mine["id"]})
        return str(mine["id"])

    def _mine(self, channel, api) -> dict:
        answer = self._call(channel, api.channels().list(part="snippet", mine=True), "channels.list")
        items = answer.get("items")
        if not isinstance(items, list):
            raise MalformedPayload("YouTube's channels.list answer has no items.")
        if not items:
            raise PermissionMissing(
                "YouTube: the Google account that connected has no YouTube channel: connect with the "
                "account (or brand account) that owns the channel."
            )
        if not isinstance(items[0], dict) or "id" not in items[0]:
            raise MalformedPayload("YouTube's channel lacks its id.")
        return items[0]

    # --- in -------------------------------------------------------------------------------------

    def pull(self, channel, cursor: str) -> PullResult:
        try:
            marks = json.loads(cursor) if cursor else {}
        except ValueError:
            marks = {}
        if not isinstance(marks, dict):
            marks = {}
        api = self.service(channel)
        own = self.youtube_channel_id(channel, api)
        items: dict[str, IncomingItem] = {}
        new_marks = dict(marks)
        for listing in LISTINGS:
            since = str(marks.get(listing) or "")
            newest = since
            token = None
            for _page in range(MAX_PAGES):
                request = api.commentThreads().list(
                    part="snippet,replies",
                    allThreadsRelatedToChannelId=own,
                    moderationStatus=listing,
                    order="time",
                    textFormat="plainText",
                    maxResults=PAGE_SIZE,
                    pageToken=token,
                )
                page = self._call(channel, request, "commentThreads.list")
                threads = page.get("items")
                if not isinstance(threads, list):
                    raise MalformedPayload("YouTube's commentThreads.list answer has no items list.")
                fresh = False
                for thread in threads:
                    for item in self.parse_thread(thread, own=own, listing=listing):
                        stamp = item.raw["updated_at"]
                        if stamp > newest:
                            newest = stamp
                        if not since or stamp > since:
                            fresh = True
                            items.setdefault(item.external_id, item)
                token = page.get("nextPageToken")
                # Newest first: a page with nothing new means the rest was seen already.
                if not token or not fresh:
                    break
            if newest:
                new_marks[listing] = newest
        return PullResult(items=list(items.values()), cursor=json.dumps(new_marks, sort_keys=True))

    def parse_thread(self, thread: dict, *, own: str, listing: str = "published") -> list[IncomingItem]:
        """A commentThread's top-level comment and the replies it carries, the brand's own left out."""
        try:
            snippet = thread["snippet"]
            top = snippet["topLevelComment"]
            video = str(snippet.get("videoId") or "")
            comments = [(top, "")]
            comments += [
                (reply, str(top["id"])) for reply in (thread.get("replies") or {}).get("comments") or []
            ]
            found = []
            for comment, parent in comments:
                author = (comment["snippet"].get("authorChannelId") or {}).get("value", "")
                if author and author == own:
                    continue  # the brand's own comments come back through the outbox
                found.append(self.parse_comment(comment, parent=parent, video=video, listing=listing))
            return found
        except (KeyError, TypeError, AttributeError) as error:
            raise MalformedPayload(f"A YouTube comment thread lacks {error}") from error

    def parse_comment(self, comment: dict, *, parent: str, video: str, listing: str) -> IncomingItem:
        try:
            snippet = comment["snippet"]
            comment_id = str(comment["id"])
            created = _time(snippet["publishedAt"])
            updated = _time(snippet.get("updatedAt") or snippet["publishedAt"])
            name = str(snippet.get("authorDisplayName") or "")
            channel_url = str(snippet.get("authorChannelUrl") or "")
            author_id = str((snippet.get("authorChannelId") or {}).get("value") or "")
            if video:
                url = f"https://www.youtube.com/watch?v={video}&lc={comment_id}"
            else:
                url = f"https://www.youtube.com/channel/{snippet.get('channelId', '')}"
            status = str(snippet.get("moderationStatus") or listing)
            return IncomingItem(
                external_id=comment_id,
                kind="reply" if parent else "comment",
                text=str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""),
                created_at=created,
                author=IncomingAuthor(
                    handle=name or author_id, display_name=name.lstrip("@"), profile_url=channel_url
                ),
                url=url,
                parent_external_id=parent,
                metrics={"likes": snippet.get("likeCount", 0)},
                raw={
                    "video_id": video,
                    "author_channel_id": author_id,
                    "moderation_status": status,
                    # The thread's top-level comment: what a reply's parentId must name.
                    "top_level_id": parent or comment_id,
                    "updated_at": updated.isoformat(),
                    "comment": comment,
                },
            )
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise MalformedPayload(f"A YouTube comment lacks {error}") from error

    # --- out ------------------------------------------------------------------------------------

    def reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        api = self.service(channel)
        parent = _top_level(in_reply_to)
        body = {"snippet": {"parentId": parent, "textOriginal": text}}
        comment = self._call(
            channel, api.comments().insert(part="snippet", body=body), "comments.insert", sending=True
        )
        return _delivered(comment, (in_reply_to.raw or {}).get("video_id", ""))

    def find_delivered(self, channel, idempotency_key: str) -> Delivered | None:
        """The reply an interrupted attempt created, among the thread's replies: the brand's, the
        same text, published since the action was queued, and no other action's. YouTube takes no
        idempotency key, so this look comes before anything is sent again."""
        from palabre.connectors.models import ActionKind, OutboundAction

        action = OutboundAction.objects.select_related("item").for_key(channel, idempotency_key).first()
        if action is not None and action.kind == ActionKind.PUBLISH:
            return self._find_upload(channel, action)
        if action is None or action.kind != ActionKind.REPLY or action.item is None:
            return None
        api = self.service(channel)
        own = self.youtube_channel_id(channel, api)
        request = api.comments().list(
            part="snippet", parentId=_top_level(action.item), maxResults=PAGE_SIZE, textFormat="plainText"
        )
        answer = self._call(channel, request, "comments.list")
        comments = answer.get("items")
        if not isinstance(comments, list):
            raise MalformedPayload("YouTube's comments.list answer has no items list.")
        taken = set(
            OutboundAction.objects.filter(
                channel=channel, external_id__in=[str(c.get("id")) for c in comments]
            )
            .exclude(pk=action.pk)
            .values_list("external_id", flat=True)
        )
        wanted = " ".join(action.text.split())
        try:
            for comment in comments:
                snippet = comment["snippet"]
                published = _time(snippet["publishedAt"])
                if (
                    (snippet.get("authorChannelId") or {}).get("value") == own
                    and " ".join(str(snippet.get("textOriginal") or "").split()) == wanted
                    and published >= action.created_at - FIND_SKEW
                    and str(comment["id"]) not in taken
                ):
                    return _delivered(comment, (action.item.raw or {}).get("video_id", ""))
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise MalformedPayload(f"A YouTube comment lacks {error}") from error
        return None

    def _moderate(self, channel, item, status: str, *, ban: bool = False) -> None:
        api = self.service(channel)
        request = api.comments().setModerationStatus(
            id=item.external_id, moderationStatus=status, banAuthor=True if ban else None
        )
        self._call(channel, request, "comments.setModerationStatus")

    def hide(self, channel, item) -> None:
        self._moderate(channel, item, "heldForReview")

    def unhide(self, channel, item) -> None:
        self._moderate(channel, item, "published")

    def ban_author(self, channel, item) -> None:
        self._moderate(channel, item, "rejected", ban=True)

    def delete(self, channel, item) -> None:
        api = self.service(channel)
        author = str((item.raw or {}).get("author_channel_id") or "")
        mine = bool((item.raw or {}).get("palabre_outbound")) or (
            bool(author) and author == self.youtube_channel_id(channel, api)
        )
        if mine:
            self._call(channel, api.comments().delete(id=item.external_id), "comments.delete")
        else:
            # Only a comment's author may delete it; the channel's owner removes it by rejecting.
            self._moderate(channel, item, "rejected")

    # --- connection -----------------------------------------------------------------------------

    def health(self, channel) -> ChannelHealthInfo:
        """The channel the token reaches, the token's scopes (Google's tokeninfo), and today's quota."""
        api = self.service(channel)
        mine = self._mine(channel, api)
        snippet = mine.get("snippet") or {}
        from palabre.connectors.services import connector_state, save_connector_state

        state = connector_state(channel)
        if state.get("channel_id") != mine["id"]:
            save_connector_state(channel, {**state, "channel_id": mine["id"]})
        scopes, expires = self.token_info(channel)
        if scopes is not None and SCOPE not in scopes:
            raise PermissionMissing(
                f"YouTube: the token lacks the scope {SCOPE}, needed to read, answer and moderate "
                f"comments (it has: {', '.join(scopes) or 'none'}). Connect the channel again and "
                "tick every permission Google asks for."
            )
        account = str(snippet.get("customUrl") or snippet.get("title") or mine["id"])
        details = {"id": str(mine["id"]), "title": str(snippet.get("title") or ""), **quota_today(channel)}
        return ChannelHealthInfo(
            account=account,
            token_expires_at=expires,
            scopes=tuple(scopes or ()),
            details=details,
            permissions_checked="verified" if scopes is not None else "partial",
            permissions_note=""
            if scopes is not None
            else "Google's tokeninfo did not tell the token's scopes.",
        )

    def token_info(self, channel) -> tuple[list[str] | None, datetime | None]:
        """The access token's scopes and expiry, from Google's tokeninfo endpoint."""
        token = str(channel.read_credentials().get("access_token") or "")
        base = (channel.options or {}).get("api_base_url")
        url = base.rstrip("/") + "/tokeninfo" if base else TOKEN_INFO_URL
        try:
            response = http_client.get(url, params={"access_token": token})
        except outbound.AddressRefused as error:
            raise PermanentError(str(error)) from error
        except httpx.HTTPError as error:
            raise TransientError(f"Google tokeninfo: {network_reason(error)}") from error
        if response.status_code == 400:  # Google's answer for an unknown or expired token
            raise TokenExpired("Google 400 invalid_token: the access token is expired or revoked: reconnect")
        if response.status_code != 200:
            return None, None
        try:
            info = response.json()
            scopes = str(info.get("scope") or "").split()
            expires = int(info["expires_in"]) if info.get("expires_in") else None
        except (ValueError, AttributeError, TypeError):
            return None, None
        when = timezone.now() + timedelta(seconds=expires) if expires is not None else None
        return scopes, when


def _time(value) -> datetime:
    """A time as YouTube writes it (RFC 3339), in UTC: the cursor compares them as text."""
    return aware(datetime.fromisoformat(str(value).replace("Z", "+00:00"))).astimezone(UTC)


def _top_level(item) -> str:
    """The thread's top-level comment, which a reply's parentId must name (YouTube threads are one
    level deep): the item's own record of it, else its parent's (the brand's reply sent through
    the outbox keeps none), else the item itself."""
    raw = item.raw or {}
    if raw.get("top_level_id"):
        return str(raw["top_level_id"])
    parent = getattr(item, "parent", None)
    if parent is not None and (parent.raw or {}).get("top_level_id"):
        return str(parent.raw["top_level_id"])
    return str(item.parent_external_id or item.external_id)


def _delivered(comment: dict, video: str) -> Delivered:
    try:
        comment_id = str(comment["id"])
    except (KeyError, TypeError) as error:
        raise MalformedPayload("YouTube answered without the comment id.", maybe_delivered=True) from error
    url = f"https://www.youtube.com/watch?v={video}&lc={comment_id}" if video else ""
    return Delivered(external_id=comment_id, url=url)
