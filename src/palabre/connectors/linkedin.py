"""LinkedIn Pages through the Community Management API (versioned REST API, plain HTTP).

- Every call carries `Authorization: Bearer`, `LinkedIn-Version: YYYYMM` and
  `X-Restli-Protocol-Version: 2.0.0`; URNs in paths are URL-encoded.
- Pulling reads the organisation's latest posts (`GET /rest/posts?q=author&author=<org urn>`), then
  each post's comments (`GET /rest/socialActions/{post urn}/comments`, paged with `start`/`count`)
  and the replies of the comments that have some (the same call on the comment's URN). A post is
  the thread's root, a comment its child, a reply the child of the comment it answers.
- Out: a reply is a comment made as the organisation (`actor`) with `parentComment`; a
  publication `POST /rest/posts` (the new post's URN in the `x-restli-id` header); delete
  `DELETE /rest/socialActions/{post urn}/comments/{comment id}?actor=<org urn>`. LinkedIn has no
  idempotency key: after an attempt whose fate is unknown, `find_delivered` looks for the comment
  (or post) among the latest. LinkedIn offers no hiding of a comment: HIDE is not declared.
- OAuth 2.0 (authorization code) with refresh tokens, the standard refresh_token grant (given to
  apps approved for the Community Management API). The access level is the member's role on the
  page (`GET /rest/organizationAcls?q=roleAssignee`), shown by health().
- Errors: 401 TokenExpired; 403 PermissionMissing; 429 RateLimited (LinkedIn's limits are daily and
  reset at midnight UTC; `Retry-After` when sent, else an hour).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from django.utils.translation import gettext_lazy as _

from palabre.connectors import http_client
from palabre.connectors.base import (
    Capability,
    ChannelHealthInfo,
    Connector,
    CredentialField,
    Delivered,
    FieldKind,
    MalformedPayload,
    Media,
    OAuthSpec,
    PermanentError,
    PermissionMissing,
    PullResult,
    TokenExpired,
    scope_text,
)
from palabre.conversations.services import IncomingAuthor, IncomingItem

API = "https://api.linkedin.com/rest"
VERSION = "202502"
SCOPES = ("r_organization_social", "w_organization_social", "rw_organization_admin")
POSTS_PER_PULL = 10
PAGE = 50
MAX_PAGES = 10
FIND_SKEW = timedelta(minutes=5)
DEFAULT_RATE_WAIT = 3600.0
# Roles on a page that may comment as the organisation (organizationAcls roles).
WRITING_ROLES = ("ADMINISTRATOR", "DIRECT_SPONSORED_CONTENT_POSTER", "CONTENT_ADMINISTRATOR")


def urn(value: str) -> str:
    return quote(value, safe="")


class LinkedInConnector(Connector):
    platform = "linkedin"
    capabilities = frozenset({Capability.PULL, Capability.REPLY, Capability.PUBLISH, Capability.DELETE})
    poll_interval = 600.0
    oauth = OAuthSpec(
        authorize_url="https://www.linkedin.com/oauth/v2/authorization",
        token_url="https://www.linkedin.com/oauth/v2/accessToken",
        scopes=SCOPES,
    )
    credential_fields = (
        CredentialField(
            "client_id",
            _("OAuth client id"),
            _(
                "LinkedIn Developer Portal > your app > Auth: the Client ID (the app has the Community Management API)."
            ),
            required=True,
        ),
        CredentialField(
            "client_secret",
            _("OAuth client secret"),
            _("LinkedIn Developer Portal > your app > Auth: the Primary Client Secret."),
            kind=FieldKind.SECRET,
            required=True,
        ),
        CredentialField(
            "organization_id",
            _("LinkedIn page id"),
            _("The page's organisation id: the number in its admin address, linkedin.com/company/ID/admin/."),
            required=True,
        ),
        CredentialField(
            "access_token",
            _("Access token"),
            _("Filled in by “Connect with LinkedIn”: sign in as an administrator of the page."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "refresh_token",
            _("Refresh token"),
            _("Filled in by “Connect with LinkedIn” (LinkedIn gives one to apps with programmatic refresh)."),
            kind=FieldKind.SECRET,
        ),
        CredentialField("token_expires_at", _("Token expiry"), _("Filled in by “Connect with LinkedIn”.")),
        CredentialField("scope", _("Granted scopes"), _("Filled in by “Connect with LinkedIn”.")),
    )

    # --- the client ---------------------------------------------------------------------------

    def addresses(self, channel, credentials) -> list[tuple[str, str]]:
        return [("credentials", self._base(channel))]

    def _base(self, channel) -> str:
        return str((channel.options or {}).get("api_base_url") or API).rstrip("/")

    def _org(self, channel) -> str:
        org = str(_credentials(channel).get("organization_id") or "").strip()
        if not org.isdigit():
            raise PermanentError("The channel's LinkedIn page id is not a number.")
        return f"urn:li:organization:{org}"

    def _call(
        self,
        channel,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        sending: bool = False,
    ) -> tuple[Any, httpx.Response]:
        token = _credentials(channel).get("access_token")
        if not token:
            raise TokenExpired("The channel is not connected to LinkedIn (no access token).")
        headers = {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        url = self._base(channel) + path
        response = http_client.send(
            method, url, label="LinkedIn", sending=sending, params=params, json=body, headers=headers
        )
        return _answer(response, sending=sending), response

    def _elements(self, channel, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every element of a paged collection (`start`/`count`), up to MAX_PAGES pages."""
        found: list[dict[str, Any]] = []
        start = 0
        for _page in range(MAX_PAGES):
            page, _response = self._call(
                channel, "GET", path, params={**params, "start": start, "count": PAGE}
            )
            elements = page.get("elements") if isinstance(page, dict) else None
            if not isinstance(elements, list):
                raise MalformedPayload("A LinkedIn collection has no elements list.")
            found.extend(e for e in elements if isinstance(e, dict))
            paging = page.get("paging") or {}
            start += len(elements)
            total = paging.get("total")
            if not elements or (start >= int(total) if total is not None else len(elements) < PAGE):
                break
        return found

    # --- in -------------------------------------------------------------------------------------

    def pull(self, channel, cursor: str) -> PullResult:
        since = _read_cursor(cursor)
        org = self._org(channel)
        posts, _response = self._call(
            channel,
            "GET",
            "/posts",
            params={"q": "author", "author": org, "count": POSTS_PER_PULL, "sortBy": "LAST_MODIFIED"},
        )
        elements = posts.get("elements") if isinstance(posts, dict) else None
        if not isinstance(elements, list):
            raise MalformedPayload("LinkedIn's posts have no elements list.")
        items: dict[str, IncomingItem] = {}
        newest = since
        for post in elements:
            root = parse_post(post, channel)
            items[root.external_id] = root
            for comment in self._elements(channel, f"/socialActions/{urn(root.external_id)}/comments", {}):
                item = parse_comment(comment, channel, org, root.external_id)
                newest = max(newest, int(comment.get("created", {}).get("time") or 0))
                items[item.external_id] = item
                replies = (comment.get("commentsSummary") or {}).get("aggregatedTotalComments") or 0
                if replies:
                    path = f"/socialActions/{urn(item.external_id)}/comments"
                    for reply in self._elements(channel, path, {}):
                        child = parse_comment(reply, channel, org, root.external_id)
                        newest = max(newest, int(reply.get("created", {}).get("time") or 0))
                        items[child.external_id] = child
        # Ingestion is idempotent: what was known comes again as an update (an edited comment).
        return PullResult(items=list(items.values()), cursor=json.dumps({"since": newest}))

    # --- out ------------------------------------------------------------------------------------

    def reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        org = self._org(channel)
        raw = in_reply_to.raw or {}
        post = str(raw.get("post_urn") or in_reply_to.external_id)
        object_urn = str(raw.get("object") or post)
        body: dict[str, Any] = {"actor": org, "object": object_urn, "message": {"text": text}}
        if in_reply_to.kind == "post":
            path = f"/socialActions/{urn(post)}/comments"
        else:
            body["parentComment"] = in_reply_to.external_id
            path = f"/socialActions/{urn(in_reply_to.external_id)}/comments"
        created, response = self._call(channel, "POST", path, body=body, sending=True)
        comment_urn = (created or {}).get("commentUrn") if isinstance(created, dict) else None
        comment_urn = comment_urn or response.headers.get("x-restli-id")
        if not comment_urn:
            raise MalformedPayload("LinkedIn did not say which comment it created.", maybe_delivered=True)
        return Delivered(external_id=str(comment_urn), url=_post_url(post))

    def publish(self, channel, *, text: str, media: Sequence[Media] = (), idempotency_key: str) -> Delivered:
        if media:
            raise PermanentError("LinkedIn posts are published without images here.")
        body = {
            "author": self._org(channel),
            "commentary": text,
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        _created, response = self._call(channel, "POST", "/posts", body=body, sending=True)
        post_urn = response.headers.get("x-restli-id")
        if not post_urn:
            raise MalformedPayload("LinkedIn did not say which post it created.", maybe_delivered=True)
        return Delivered(external_id=post_urn, url=_post_url(post_urn))

    def find_delivered(self, channel, idempotency_key: str) -> Delivered | None:
        """The organisation's comment (or post) an interrupted attempt created: same text, made
        since the action was queued, no other action's."""
        from palabre.connectors.models import ActionKind, OutboundAction

        action = OutboundAction.objects.select_related("item").for_key(channel, idempotency_key).first()
        if action is None:
            return None
        org = self._org(channel)
        after_ms = int((action.created_at - FIND_SKEW).timestamp() * 1000)
        if action.kind == ActionKind.REPLY and action.item is not None:
            item = action.item
            raw = item.raw or {}
            where = item.external_id if item.kind != "post" else str(raw.get("post_urn") or item.external_id)
            candidates = self._elements(channel, f"/socialActions/{urn(where)}/comments", {})
            post = str(raw.get("post_urn") or item.external_id)
            for comment in candidates:
                made = int((comment.get("created") or {}).get("time") or 0)
                if (
                    comment.get("actor") == org
                    and (comment.get("message") or {}).get("text") == action.text
                    and made >= after_ms
                    and not _taken(channel, action, str(comment.get("commentUrn")))
                ):
                    return Delivered(external_id=str(comment["commentUrn"]), url=_post_url(post))
            return None
        posts, _response = self._call(
            channel, "GET", "/posts", params={"q": "author", "author": org, "count": 10}
        )
        for post in (posts or {}).get("elements") or []:
            if (
                post.get("commentary") == action.text
                and int(post.get("createdAt") or 0) >= after_ms
                and not _taken(channel, action, str(post.get("id")))
            ):
                return Delivered(external_id=str(post["id"]), url=_post_url(str(post["id"])))
        return None

    def delete(self, channel, item) -> None:
        raw = item.raw or {}
        post, comment_id = raw.get("post_urn"), raw.get("comment_id")
        if not post or not comment_id:
            raise PermanentError("Only a comment can be deleted here (the item carries no comment id).")
        self._call(
            channel,
            "DELETE",
            f"/socialActions/{urn(str(raw.get('object') or post))}/comments/{urn(str(comment_id))}",
            params={"actor": self._org(channel)},
        )

    # --- connection -------------------------------------------------------------------------------

    def credentials_from_token(self, channel, token, *, now: datetime) -> dict[str, Any]:
        credentials = super().credentials_from_token(channel, token, now=now)
        if token.get("scope"):
            credentials["scope"] = scope_text(token["scope"])
        return credentials

    def health(self, channel) -> ChannelHealthInfo:
        """The member's role on the page (its access level), and the scopes granted."""
        org = self._org(channel)
        granted = tuple(str(_credentials(channel).get("scope") or "").replace(",", " ").split())
        missing = [scope for scope in SCOPES if granted and scope not in granted]
        if missing:
            raise PermissionMissing(f"LinkedIn: the token lacks the scopes {', '.join(missing)}.")
        acls, _response = self._call(
            channel, "GET", "/organizationAcls", params={"q": "roleAssignee", "state": "APPROVED"}
        )
        roles = sorted(
            {
                str(acl.get("role"))
                for acl in (acls or {}).get("elements") or []
                if isinstance(acl, dict) and acl.get("organization") == org
            }
        )
        if not roles:
            raise PermissionMissing(f"LinkedIn: the connected member has no approved role on the page {org}.")
        if not set(roles) & set(WRITING_ROLES):
            raise PermissionMissing(
                f"LinkedIn: the member's role on the page ({', '.join(roles)}) cannot comment as the page "
                "(an administrator's role is needed)."
            )
        return ChannelHealthInfo(
            account=org,
            scopes=granted,
            permissions_checked="verified" if granted else "partial",
            permissions_note="" if granted else "LinkedIn did not say which scopes the token carries.",
            details={"access_level": ", ".join(roles)},
        )


def _credentials(channel) -> dict[str, Any]:
    return channel.read_credentials() if channel.has_credentials else {}


def _taken(channel, action, external_id: str) -> bool:
    from palabre.connectors.models import OutboundAction

    return (
        OutboundAction.objects.filter(channel=channel, external_id=external_id).exclude(pk=action.pk).exists()
    )


def _post_url(post_urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{post_urn}/"


def _when(ms: Any) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


def parse_post(post: dict[str, Any], channel) -> IncomingItem:
    """One of the organisation's posts (Posts API) as the root of its thread: the brand's."""
    try:
        post_urn = str(post["id"])
        return IncomingItem(
            external_id=post_urn,
            kind="post",
            text=str(post.get("commentary") or ""),
            created_at=_when(post.get("publishedAt") or post["createdAt"]),
            author=IncomingAuthor(handle=channel.handle, display_name=channel.name),
            url=_post_url(post_urn),
            raw={"post_urn": post_urn, "object": post_urn},
        )
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedPayload(f"A LinkedIn post lacks {error}") from error


def parse_comment(comment: dict[str, Any], channel, org: str, post_urn: str) -> IncomingItem:
    """A comment (socialActions comments) as the child of its post, or of the comment it answers."""
    try:
        actor = str(comment["actor"])
        own = actor == org
        author = (
            IncomingAuthor(handle=channel.handle, display_name=channel.name)
            if own
            else IncomingAuthor(handle=actor, display_name=actor.rsplit(":", 1)[-1])
        )
        return IncomingItem(
            external_id=str(comment["commentUrn"]),
            kind="reply" if comment.get("parentComment") else "comment",
            text=str((comment.get("message") or {}).get("text") or ""),
            created_at=_when(comment["created"]["time"]),
            author=author,
            url=_post_url(post_urn),
            parent_external_id=str(comment.get("parentComment") or post_urn),
            metrics={"likes": (comment.get("likesSummary") or {}).get("totalLikes", 0)},
            raw={
                "post_urn": post_urn,
                "object": str(comment.get("object") or post_urn),
                "comment_id": str(comment["id"]),
                "actor": actor,
            },
        )
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedPayload(f"A LinkedIn comment lacks {error}") from error


def _read_cursor(cursor: str) -> int:
    try:
        return int(json.loads(cursor).get("since", 0)) if cursor else 0
    except (ValueError, TypeError, AttributeError):
        return 0


def _answer(response: httpx.Response, *, sending: bool) -> Any:
    status = response.status_code
    payload = http_client.json_or_none(response.content)
    if status >= 400:
        detail, code = http_client.error_detail(payload)
        if status == 429:
            message = f"LinkedIn 429: {detail or 'rate limited (daily limits reset at midnight UTC)'}"
        elif status == 401:
            message = f"LinkedIn 401 ({code}): {detail or 'the access token is expired or revoked'}"
        elif status == 403:
            message = f"LinkedIn 403 ({code}): {detail or 'not allowed'} (scopes needed: {', '.join(SCOPES)})"
        elif status in (404, 410):
            message = f"LinkedIn {status}: {detail or 'not found'}"
        else:
            message = (
                f"LinkedIn {status}"
                if status >= 500
                else f"LinkedIn {status} ({code}): {detail or 'refused'}"
            )
        wait = http_client.retry_after(response) or DEFAULT_RATE_WAIT
        raise http_client.status_error(status, message, sending=sending, retry_after=wait)
    if payload is None:
        raise MalformedPayload("LinkedIn did not answer JSON.", maybe_delivered=sending)
    return payload
