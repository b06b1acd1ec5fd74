"""Discourse, a brand's forum through its REST API (docs.discourse.org) and its webhooks.

Credentials: the forum's address, an API key and the user it acts as (`Api-Key` and
`Api-Username` headers: a key made for one user, or an "All users" key with the brand's staff
account named), and the secret of the forum's webhook.

- The topic is the thread: a post is known as `<topic id>/<post number>`, its parent is the post
  it answers (`reply_to_post_number`) or else the topic's first post; so a reply, its parent and
  the delivered answer meet in one thread whichever arrives first.
- Pulling reads `GET /posts.json` (the forum's latest posts, newest first) back to the newest post
  seen (the `before` cursor pages further back), then the review queue's pending flags
  (`GET /review.json?type=ReviewableFlaggedPost`): a flagged post comes in (again) with its flag
  score; a reply whose topic's first post is not known brings it (`GET /t/{id}.json`). A channel
  may keep to some categories (the `categories` setting: category ids).
- Webhooks: `X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256 of the body, keyed with the
  webhook's secret>`; post events carry `{"post": {...}}`.
- Out: a reply is `POST /posts.json` with `topic_id` and `reply_to_post_number`; a publication
  a new topic (its first line the title) in the `publish_category` setting. Discourse has no
  idempotency key: after an interrupted attempt `find_delivered` looks for the post among the
  forum's latest posts.
- Moderation (staff): hide is a flag with `take_action` (a staff flag hides the post at once,
  `POST /post_actions.json`), unhide `PUT /posts/{id}/unhide`, delete `DELETE /posts/{id}.json`,
  ban_author silences the author (`PUT /admin/users/{id}/silence`, `silence_days`).
- Errors: 429 with `Retry-After` (or the body's `extras.wait_seconds`) is RateLimited; a 403
  saying the key is invalid is TokenExpired, any other 403 PermissionMissing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.utils import timezone
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
    PermanentError,
    PermissionMissing,
    PullResult,
    TokenExpired,
)
from palabre.connectors.text import html_to_text
from palabre.conversations.services import IncomingAuthor, IncomingItem

MAX_PAGES = 10
# Topics whose first post a pull fetches (`/t/{id}.json`) for replies that came without it.
MAX_TOPICS = 10
# A post created this long before its action was queued is not that action's (clocks differ).
FIND_SKEW = timedelta(minutes=5)
# Discourse's post action types (PostActionType.types): a staff flag as "inappropriate" with
# take_action hides the post.
INAPPROPRIATE = 4
REGULAR_POST = 1
DEFAULT_SILENCE_DAYS = 7
SILENCE_REASON = "Silenced by the forum's moderation team (Palabre)."


class DiscourseConnector(Connector):
    platform = "discourse"
    capabilities = frozenset(
        {
            Capability.PULL,
            Capability.WEBHOOK,
            Capability.REPLY,
            Capability.PUBLISH,
            Capability.HIDE,
            Capability.UNHIDE,
            Capability.DELETE,
            Capability.BAN_AUTHOR,
        }
    )
    poll_interval = 120.0
    credential_fields = (
        CredentialField(
            "base_url",
            _("Forum address"),
            _("The forum's address, e.g. https://forum.example.com."),
            kind=FieldKind.URL,
            required=True,
        ),
        CredentialField(
            "api_key",
            _("API key"),
            _(
                "In the forum: Admin > Advanced > API keys > New API key, for the single user the brand "
                "answers as (a moderator or admin), with the global scope or the scopes listed in "
                "Palabre's documentation."
            ),
            kind=FieldKind.SECRET,
            required=True,
        ),
        CredentialField(
            "api_username",
            _("API username"),
            _("The username of the staff account the API key acts as."),
            required=True,
        ),
        CredentialField(
            "webhook_secret",
            _("Webhook secret"),
            _("Admin > Advanced > Webhooks: the secret typed in the webhook sending post events to Palabre."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "categories",
            _("Categories"),
            _(
                "Optional: the ids of the categories to follow, separated by commas (a category's id is in "
                "its address, /c/name/ID); empty: the whole forum."
            ),
        ),
        CredentialField(
            "publish_category",
            _("Category of new topics"),
            _("Optional: the id of the category where a publication opens its topic."),
            kind=FieldKind.INTEGER,
        ),
        CredentialField(
            "silence_days",
            _("Silence (days)"),
            _("Optional: how many days “ban the author” silences a user (7 by default)."),
            kind=FieldKind.INTEGER,
        ),
    )

    # --- the client ---------------------------------------------------------------------------

    def addresses(self, channel, credentials) -> list[tuple[str, str]]:
        base = credentials.get("base_url")
        return [("credentials", str(base))] if base else []

    def _login(self, channel) -> tuple[str, dict[str, str]]:
        credentials = channel.read_credentials() if channel.has_credentials else {}
        base = str(credentials.get("base_url") or "").rstrip("/")
        key, username = credentials.get("api_key"), credentials.get("api_username")
        if not base or not key or not username:
            raise TokenExpired("The channel has no Discourse address, API key or API username.")
        return base, {"Api-Key": str(key), "Api-Username": str(username), "Accept": "application/json"}

    def _call(
        self,
        channel,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        sending: bool = False,
    ) -> Any:
        base, headers = self._login(channel)
        host = urlsplit(base).hostname or base
        response = http_client.send(
            method,
            base + path,
            label=f"Discourse {host}",
            sending=sending,
            params=params,
            json=body,
            headers=headers,
        )
        return _answer(response, host, sending=sending)

    # --- in -------------------------------------------------------------------------------------

    def pull(self, channel, cursor: str) -> PullResult:
        seen = _read_cursor(cursor)
        last_post, last_review = seen.get("post", 0), seen.get("review", 0)
        base, _headers = self._login(channel)
        categories, brand = _categories(channel), _brand(channel)
        items: dict[str, IncomingItem] = {}
        newest, before = last_post, None
        for _page in range(MAX_PAGES):
            page = self._call(channel, "GET", "/posts.json", params={"before": before} if before else None)
            posts = page.get("latest_posts") if isinstance(page, dict) else None
            if not isinstance(posts, list):
                raise MalformedPayload("Discourse's latest posts are not a list.")
            if not posts:
                break
            ids = [_post_id(post) for post in posts]
            for post in posts:
                if _post_id(post) > last_post and _wanted(post, categories):
                    item = parse_post(post, base, brand)
                    items[item.external_id] = item
            newest = max(newest, *ids)
            if not last_post or min(ids) <= last_post:
                break  # a first pull reads one page; then back to the newest post seen
            before = min(ids)
        newest_review = self._flags(channel, base, last_review, items, categories, brand)
        self._topic_roots(channel, base, items, brand)
        cursor_out = json.dumps({"post": newest, "review": newest_review}, sort_keys=True)
        return PullResult(items=list(items.values()), cursor=cursor_out)

    def _flags(self, channel, base, last_review, items, categories, brand) -> int:
        """Pending flags of the review queue since the last seen: each flagged post comes in with
        its score (fetched when this pull did not bring it)."""
        queue = self._call(
            channel, "GET", "/review.json", params={"status": "pending", "type": "ReviewableFlaggedPost"}
        )
        reviewables = queue.get("reviewables") if isinstance(queue, dict) else None
        if not isinstance(reviewables, list):
            raise MalformedPayload("Discourse's review queue has no reviewables list.")
        newest = last_review
        for reviewable in reviewables:
            try:
                review_id, post_id = int(reviewable["id"]), reviewable.get("post_id")
            except (KeyError, TypeError, ValueError) as error:
                raise MalformedPayload(f"A Discourse reviewable lacks {error}") from error
            newest = max(newest, review_id)
            if review_id <= last_review or not post_id:
                continue
            found = next((i for i in items.values() if i.raw.get("post_id") == int(post_id)), None)
            if found is None:
                post = self._call(channel, "GET", f"/posts/{int(post_id)}.json")
                if not isinstance(post, dict) or not _wanted(post, categories):
                    continue
                found = parse_post(post, base, brand)
                items[found.external_id] = found
            found.metrics["flag_score"] = reviewable.get("score", 0)
            found.raw["reviewable_id"] = review_id
        return newest

    def _topic_roots(self, channel, base, items: dict[str, IncomingItem], brand) -> None:
        """The first post of each topic whose replies came without it (a topic older than the
        page, a flagged post): read from `GET /t/{id}.json`, so the reply sits in its thread. A topic
        gone or out of the API user's sight (404) is left as it is."""
        from palabre.conversations.models import Item

        wanted = {i.parent_external_id.split("/")[0] for i in items.values() if i.parent_external_id}
        roots = {f"{topic}/1" for topic in wanted} - set(items)
        if not roots:
            return
        stored = set(
            Item.objects.filter(channel=channel, external_id__in=roots).values_list("external_id", flat=True)
        )
        for root in sorted(roots - stored)[:MAX_TOPICS]:
            topic_id = int(root.split("/")[0])
            try:
                topic = self._call(channel, "GET", f"/t/{topic_id}.json")
            except PermanentError as error:
                if isinstance(error, TokenExpired | PermissionMissing | MalformedPayload):
                    raise
                continue
            try:
                posts = topic["post_stream"]["posts"]
                first = next(post for post in posts if int(post["post_number"]) == 1)
            except StopIteration:
                continue
            except (KeyError, TypeError, ValueError) as error:
                raise MalformedPayload(f"A Discourse topic lacks {error}") from error
            item = parse_post({**first, "topic_title": topic.get("title") or ""}, base, brand)
            items[item.external_id] = item

    def verify_webhook(self, channel, headers: Mapping[str, str], body: bytes) -> bool:
        """`X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>`."""
        secret = channel.read_credentials().get("webhook_secret") if channel.has_credentials else None
        lowered = {str(name).lower(): str(value) for name, value in headers.items()}
        signature = lowered.get("x-discourse-event-signature", "")
        if not secret or not signature.startswith("sha256="):
            return False
        expected = hmac.new(str(secret).encode(), body, hashlib.sha256).hexdigest()
        # As bytes: compare_digest raises TypeError on a str with other than ASCII (a forged header).
        sent = signature.removeprefix("sha256=").strip().lower().encode("utf-8", "replace")
        return hmac.compare_digest(expected.encode(), sent)

    def parse_webhook(self, channel, body: bytes) -> list[IncomingItem]:
        """Post events (`post_created`, `post_edited`: `{"post": {...}}`); other events bring
        nothing (a topic's first post comes as a post event too)."""
        try:
            payload = json.loads(body)
        except ValueError as error:
            raise MalformedPayload(f"Not a Discourse webhook payload: {error}") from error
        if not isinstance(payload, dict):
            raise MalformedPayload("A Discourse webhook payload is a JSON object.")
        post = payload.get("post")
        if post is None:
            return []
        if not isinstance(post, dict):
            raise MalformedPayload("The webhook's post is not an object.")
        base, _headers = self._login(channel)
        if not _wanted(post, _categories(channel)):
            return []
        return [parse_post(post, base, _brand(channel))]

    # --- out ------------------------------------------------------------------------------------

    def reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        topic_id, post_number = _place(in_reply_to)
        body: dict[str, Any] = {"raw": text, "topic_id": topic_id}
        if post_number > 1:
            body["reply_to_post_number"] = post_number
        post = self._call(channel, "POST", "/posts.json", body=body, sending=True)
        return self._delivered(channel, post)

    def publish(self, channel, *, text: str, media: Sequence[Media] = (), idempotency_key: str) -> Delivered:
        if media:
            raise PermanentError("Discourse topics are published without attached media here.")
        title, raw = topic_parts(text)
        body: dict[str, Any] = {"title": title, "raw": raw}
        category = setting(channel, "publish_category")
        if category:
            body["category"] = int(category)
        post = self._call(channel, "POST", "/posts.json", body=body, sending=True)
        return self._delivered(channel, post)

    def _delivered(self, channel, post) -> Delivered:
        base, _headers = self._login(channel)
        try:
            return Delivered(
                external_id=f"{int(post['topic_id'])}/{int(post['post_number'])}",
                url=_post_url(base, post),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedPayload(
                "Discourse answered without the post's topic and number.", maybe_delivered=True
            ) from error

    def find_delivered(self, channel, idempotency_key: str) -> Delivered | None:
        """The post an interrupted attempt created, among the forum's latest: by the API user, in
        the same topic (a new one for a publication), with the same text, created since the action
        was queued, and no other action's."""
        from palabre.connectors.models import ActionKind, OutboundAction

        action = OutboundAction.objects.select_related("item").for_key(channel, idempotency_key).first()
        if action is None:
            return None
        _base, headers = self._login(channel)
        page = self._call(channel, "GET", "/posts.json")
        posts = page.get("latest_posts") if isinstance(page, dict) else None
        if not isinstance(posts, list):
            raise MalformedPayload("Discourse's latest posts are not a list.")
        topic = _place(action.item)[0] if action.kind == ActionKind.REPLY and action.item else None
        sent = action.text if topic is not None else topic_parts(action.text)[1]
        wanted = " ".join(sent.split())
        places = [
            f"{post.get('topic_id')}/{post.get('post_number')}" for post in posts if isinstance(post, dict)
        ]
        taken = set(
            OutboundAction.objects.filter(channel=channel, external_id__in=places)
            .exclude(pk=action.pk)
            .values_list("external_id", flat=True)
        )
        for post in posts:
            try:
                place = f"{int(post['topic_id'])}/{int(post['post_number'])}"
                if (
                    str(post["username"]).lower() == headers["Api-Username"].lower()
                    and (post["topic_id"] == topic if topic is not None else post["post_number"] == 1)
                    and _created(post) >= action.created_at - FIND_SKEW
                    and place not in taken
                    and wanted == " ".join(str(post.get("raw") or html_to_text(post["cooked"])).split())
                ):
                    return self._delivered(channel, post)
            except (KeyError, TypeError, ValueError) as error:
                raise MalformedPayload(f"A Discourse post lacks {error}") from error
        return None

    def hide(self, channel, item) -> None:
        self._call(
            channel,
            "POST",
            "/post_actions.json",
            body={
                "id": _post_id_of(item),
                "post_action_type_id": INAPPROPRIATE,
                "flag_topic": False,
                "take_action": True,
            },
        )

    def unhide(self, channel, item) -> None:
        self._call(channel, "PUT", f"/posts/{_post_id_of(item)}/unhide")

    def delete(self, channel, item) -> None:
        self._call(channel, "DELETE", f"/posts/{_post_id_of(item)}.json", body={"force_destroy": False})

    def ban_author(self, channel, item) -> None:
        user_id = (item.raw or {}).get("user_id")
        if not user_id:
            raise PermanentError("The post does not name its author's Discourse user id.")
        days = int(setting(channel, "silence_days") or DEFAULT_SILENCE_DAYS)
        until = timezone.now() + timedelta(days=days)
        self._call(
            channel,
            "PUT",
            f"/admin/users/{int(user_id)}/silence.json",
            body={"silenced_till": until.isoformat(), "reason": SILENCE_REASON},
        )

    def health(self, channel) -> ChannelHealthInfo:
        """The user the key acts as (`GET /session/current.json`): hiding, deleting, silencing and
        the review queue need a moderator or an admin. Discourse does not tell a key's scopes."""
        answer = self._call(channel, "GET", "/session/current.json")
        try:
            user = answer["current_user"]
            username = str(user["username"])
        except (KeyError, TypeError) as error:
            raise MalformedPayload(f"Discourse's current user lacks {error}") from error
        if not (user.get("moderator") or user.get("admin")):
            raise PermissionMissing(
                f"Discourse: the API user {username} is neither a moderator nor an admin; hiding, "
                "deleting, silencing and the review queue need one (grant moderation, or make the key "
                "for a staff account)."
            )
        base, _headers = self._login(channel)
        return ChannelHealthInfo(
            account=f"@{username}@{urlsplit(base).hostname or base}",
            details={"id": user.get("id"), "admin": bool(user.get("admin"))},
            permissions_checked="partial",
            permissions_note=(
                "Discourse does not tell an API key's scopes: the user it acts as is staff, and a key "
                "limited to fewer scopes than the documented ones would fail at its first call."
            ),
        )


def topic_parts(text: str) -> tuple[str, str]:
    """A publication as a topic: its first line the title, the rest the first post (the whole
    text when nothing follows the title)."""
    title, _sep, rest = text.strip().partition("\n")
    return title.strip()[:255], rest.strip() or text.strip()


# --- reading posts -------------------------------------------------------------------------------


def parse_post(post: Mapping[str, Any], base: str, brand: tuple[str, str, str] | None = None) -> IncomingItem:
    """A Discourse post (latest posts, a single post, a webhook's) as an item of its topic's thread.
    A post of the brand's API user (`brand`: its username, the channel's handle and name) is the
    brand's: its author is the channel, as for a reply Palabre delivered."""
    try:
        topic_id, number = int(post["topic_id"]), int(post["post_number"])
        answered = int(post.get("reply_to_post_number") or 0)
        text = str(post.get("raw") or "") or html_to_text(str(post.get("cooked") or ""))
        title = str(post.get("topic_title") or "")
        if number == 1 and title:
            text = f"{title}\n\n{text}"
        return IncomingItem(
            external_id=f"{topic_id}/{number}",
            kind="post" if number == 1 else ("reply" if answered > 1 else "comment"),
            text=text,
            created_at=_created(post),
            author=_author(post, base, brand),
            url=_post_url(base, post),
            parent_external_id="" if number == 1 else f"{topic_id}/{answered or 1}",
            metrics={"reads": post.get("reads", 0), "reply_count": post.get("reply_count", 0)},
            raw={
                "post_id": int(post["id"]),
                "topic_id": topic_id,
                "post_number": number,
                "user_id": post.get("user_id"),
                "category_id": post.get("category_id"),
                "hidden": bool(post.get("hidden")),
            },
        )
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedPayload(f"A Discourse post lacks {error}") from error


def _brand(channel) -> tuple[str, str, str]:
    own = str(channel.read_credentials().get("api_username") or "") if channel.has_credentials else ""
    return own.lower(), channel.handle, channel.name


def _author(post: Mapping[str, Any], base: str, brand: tuple[str, str, str] | None) -> IncomingAuthor:
    username = str(post["username"])
    profile = f"{base}/u/{username}"
    if brand is not None and brand[0] and username.lower() == brand[0]:
        return IncomingAuthor(handle=brand[1], display_name=brand[2], profile_url=profile)
    name = str(post.get("name") or post.get("display_username") or username)
    return IncomingAuthor(handle=username, display_name=name, profile_url=profile)


def _post_url(base: str, post: Mapping[str, Any]) -> str:
    if post.get("post_url"):
        return base + str(post["post_url"])
    slug = post.get("topic_slug") or "-"
    return f"{base}/t/{slug}/{int(post['topic_id'])}/{int(post['post_number'])}"


def _created(post: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(post["created_at"]).replace("Z", "+00:00"))


def _post_id(post: Any) -> int:
    try:
        return int(post["id"])
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedPayload(f"A Discourse post lacks {error}") from error


def _wanted(post: Mapping[str, Any], categories: set[int]) -> bool:
    """A regular post in a watched category (the brand's own too: they hold the threads together)."""
    if post.get("post_type", REGULAR_POST) != REGULAR_POST:
        return False  # whispers, moderator actions, "closed the topic" small actions
    return not categories or post.get("category_id") in categories


def setting(channel, name: str) -> Any:
    """A channel setting: typed with the credentials (the channel's Credentials page and the API),
    else in the channel's options."""
    credentials = channel.read_credentials() if channel.has_credentials else {}
    value = credentials.get(name)
    return value if value not in (None, "") else (channel.options or {}).get(name)


def _categories(channel) -> set[int]:
    value = setting(channel, "categories") or []
    if isinstance(value, str):
        value = [one for one in value.replace(" ", ",").split(",") if one]
    try:
        return {int(one) for one in value}
    except (TypeError, ValueError) as error:
        raise PermanentError(
            "The channel's categories are not category ids (numbers separated by commas)."
        ) from error


def _place(item) -> tuple[int, int]:
    """An item's topic id and post number, from its external id `<topic>/<number>`."""
    try:
        topic, number = item.external_id.split("/")
        return int(topic), int(number)
    except (AttributeError, ValueError) as error:
        raise PermanentError(f"{item.external_id!r} is not a Discourse post (topic/number).") from error


def _post_id_of(item) -> int:
    post_id = (item.raw or {}).get("post_id")
    if not post_id:
        raise PermanentError("The item does not carry its Discourse post id.")
    return int(post_id)


def _read_cursor(cursor: str) -> dict[str, int]:
    if not cursor:
        return {}
    try:
        seen = json.loads(cursor)
        return {"post": int(seen.get("post", 0)), "review": int(seen.get("review", 0))}
    except (ValueError, TypeError, AttributeError):
        return {}


def _answer(response: httpx.Response, host: str, *, sending: bool) -> Any:
    status = response.status_code
    payload = http_client.json_or_none(response.content)
    if status >= 400:
        errors = payload.get("errors") if isinstance(payload, dict) else None
        detail = http_client.error_detail({"errors": errors})[0] if isinstance(errors, list) else ""
        wait = http_client.retry_after(response)
        if wait is None and isinstance(payload, dict):
            wait = (payload.get("extras") or {}).get("wait_seconds")
        if status == 403 and "invalid" in detail.lower() and "key" in detail.lower():
            status = 401  # Discourse answers an invalid or revoked key with a 403
        if status == 429:
            message = f"Discourse {host} 429: {detail or 'rate limited'}"
        elif status == 401:
            message = (
                f"Discourse {host} {response.status_code}: the API key or username is invalid or revoked"
            )
        elif status == 403:
            message = (
                f"Discourse {host} 403: the API key's user or scopes do not allow this ({detail})".rstrip()
            )
        elif status in (404, 410):
            message = f"Discourse {host} {status}: not found (deleted, or not visible to the API user)"
        else:
            message = f"Discourse {host} {status}" + ("" if status >= 500 else f": {detail or 'refused'}")
        raise http_client.status_error(status, message, sending=sending, retry_after=float(wait or 60))
    if payload is None:
        raise MalformedPayload(f"Discourse {host} did not answer JSON.", maybe_delivered=sending)
    return payload
