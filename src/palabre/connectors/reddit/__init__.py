"""Reddit, through PRAW: a brand's subreddit moderated from Palabre, and searches of Reddit.

Channel side. The channel's handle names the brand's subreddit (`r/maisondupont`). Credentials
are a Reddit app's: a *script* app (client id and secret, the moderator account's username and
password: the password grant) or a *web app* connected through the OAuth flow
(`RedditConnector.oauth`, `duration=permanent`: a refresh token PRAW trades for an access token at
each call). PRAW talks to Reddit through Palabre's guarded `requests` session, so every request
reaches only a checked address, with Reddit's User-Agent rule
(`<platform>:<app id>:<version> (by /u/<username>)`).

- Pulling reads the subreddit's new posts (`/r/{sub}/new`) and comments (`/r/{sub}/comments`)
  down to the newest seen (base-36 ids grow), and its mod queue (`/r/{sub}/about/modqueue`: what
  Reddit's filters hold and what people reported, with the reports); with
  the `mentions_query` setting, the brand's mentions elsewhere come in through the same search
  listening uses (`/search`, sorted by new).
- A post is known by its fullname (`t3_...`), a comment too (`t1_...`), its parent by
  `parent_id`: the submission is the thread.
- Out: a reply is `POST /api/comment` (distinguished as moderator when
  `distinguish_replies` is `yes`), hide is *remove* (`/api/remove`), unhide *approve*
  (`/api/approve`), delete is `/api/del` for the brand's own and *remove as spam* for others'
  (Reddit lets a moderator delete nobody else's), ban_author bans from the subreddit
  (`/r/{sub}/api/friend`, `type=banned`), `lock` locks a thread.
- Reddit has no idempotency key: `find_delivered` looks among the account's latest comments.
- Rate limits: Reddit's `X-Ratelimit-Remaining`, `-Reset` (seconds) and `-Used` headers. prawcore
  would sleep until the reset when none remain, and retry a write on a 5xx or a timeout (a second
  comment); the session here turns both into errors instead: the outbox retries with backoff, and
  a write whose outcome is unknown is looked for before it is sent again.

Listening side: `search(config, cursor)` is the connector's search (`RedditConnector.search`), over
Reddit's public JSON (`/search.json`) for a listening source, or through the channel's OAuth
session for `mentions_query`; both read the Listing with the same parser.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from palabre.connectors import http_client
from palabre.connectors import search as searching
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
    TokenExpired,
    TransientError,
)
from palabre.connectors.reddit.listing import _children, _id36, _read_cursor, parse_thing, reddit_candidates
from palabre.connectors.reddit.session import DEFAULT_BASE, DEFAULT_OAUTH, RedditClient, user_agent
from palabre.connectors.search import SearchMalformed, SearchPage
from palabre.conversations.services import IncomingItem

if TYPE_CHECKING:
    import praw

# Sorted by "new": remembering the latest ids is enough to skip what is already known.
__all__ = ["DEFAULT_BASE", "RedditConnector", "search", "setting", "user_agent"]

MAX_SEEN = 200
PAGE_SIZE = 100
# A comment created this long before its action was queued is not that action's (clocks differ).
FIND_SKEW = timedelta(minutes=5)
# What the channel is asked to do, and the scope each needs (reddit.com/dev/api, "scope" of each
# endpoint): name the account, read listings and the mod queue, comment, delete its own, moderate,
# ban, read its own comments back.
NEEDED_SCOPES = ("identity", "read", "submit", "edit", "modposts", "modcontributors", "history")


# --- reading Reddit's JSON -------------------------------------------------------------------------


# --- the session PRAW gets ----------------------------------------------------------------------


# --- the connector --------------------------------------------------------------------------------


class RedditConnector(RedditClient, Connector):
    platform = "reddit"
    capabilities = frozenset(
        {
            Capability.PULL,
            Capability.REPLY,
            Capability.HIDE,
            Capability.UNHIDE,
            Capability.DELETE,
            Capability.BAN_AUTHOR,
            Capability.SEARCH,
        }
    )
    poll_interval = 180.0
    oauth = OAuthSpec(
        authorize_url="https://www.reddit.com/api/v1/authorize",
        token_url="https://www.reddit.com/api/v1/access_token",
        scopes=NEEDED_SCOPES,
        scope_separator=" ",
        extra_authorize_params=(("duration", "permanent"),),
        # Reddit's token endpoint takes the app's id and secret as HTTP Basic.
        token_auth="client_secret_basic",
    )
    option_fields = (
        CredentialField(
            "subreddit",
            gettext_lazy("Subreddit"),
            gettext_lazy(
                "The subreddit the channel moderates (r/name), when it is not the channel's handle."
            ),
        ),
    )
    credential_fields = (
        CredentialField(
            "client_id",
            gettext_lazy("Client id"),
            gettext_lazy(
                "reddit.com/prefs/apps > create another app: the id under the app's name (a “script” "
                "app for a moderator account's password, a “web app” for the Connect button)."
            ),
            required=True,
        ),
        CredentialField(
            "client_secret",
            gettext_lazy("Client secret"),
            gettext_lazy("reddit.com/prefs/apps: the app's “secret”."),
            kind=FieldKind.SECRET,
            required=True,
        ),
        CredentialField(
            "username",
            gettext_lazy("Reddit username"),
            gettext_lazy("Script app: the moderator account the brand answers as (without u/)."),
        ),
        CredentialField(
            "password",
            gettext_lazy("Reddit password"),
            gettext_lazy("Script app: that account's password (the account must not use two-factor login)."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "refresh_token",
            gettext_lazy("Refresh token"),
            gettext_lazy("Web app: filled in by “Connect with Reddit” (duration permanent)."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "access_token",
            gettext_lazy("Access token"),
            gettext_lazy("Web app: filled in by “Connect with Reddit”."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "token_expires_at",
            gettext_lazy("Token expiry"),
            gettext_lazy("Web app: filled in by “Connect with Reddit”."),
        ),
        CredentialField(
            "mentions_query",
            gettext_lazy("Mentions search"),
            gettext_lazy(
                "Optional: a Reddit search for the brand's mentions elsewhere on Reddit, e.g. "
                '"Maison Dupont"; what it finds outside the subreddit comes in as mentions.'
            ),
        ),
        CredentialField(
            "distinguish_replies",
            gettext_lazy("Replies as moderator"),
            gettext_lazy("“yes”: the brand's replies carry the moderator badge (distinguished)."),
            kind=FieldKind.CHOICE,
            choices=("yes", "no"),
        ),
        CredentialField(
            "ban_days",
            gettext_lazy("Ban (days)"),
            gettext_lazy(
                "Optional: how many days “ban the author” bans from the subreddit; empty: for good."
            ),
            kind=FieldKind.INTEGER,
        ),
        CredentialField(
            "oauth_url",
            gettext_lazy("API address"),
            gettext_lazy("Leave empty: https://oauth.reddit.com."),
            kind=FieldKind.URL,
        ),
        CredentialField(
            "reddit_url",
            gettext_lazy("Token address"),
            gettext_lazy("Leave empty: https://www.reddit.com."),
            kind=FieldKind.URL,
        ),
    )

    def authorised(self, credentials) -> bool:
        """A web app's refresh token, or a script app's moderator login (as `client` reads them)."""
        return bool(
            credentials.get("refresh_token") or (credentials.get("username") and credentials.get("password"))
        )

    def credentials_from_token(self, channel, token, *, now: datetime) -> dict[str, Any]:
        """The web app's tokens, and the account's name (`GET /api/v1/me` with the new token):
        Reddit's User-Agent rule names it, and the brand's own posts are known by it."""
        credentials = super().credentials_from_token(channel, token, now=now)
        current = channel.read_credentials() if channel.has_credentials else {}
        oauth_url = str(current.get("oauth_url") or DEFAULT_OAUTH).rstrip("/")
        try:
            response = http_client.get(
                oauth_url + "/api/v1/me",
                headers={"Authorization": f"bearer {token['access_token']}", "User-Agent": user_agent()},
            )
        except httpx.HTTPError as error:
            raise TransientError(f"Reddit: {error}") from error
        if response.status_code == 401:
            raise TokenExpired("Reddit 401: the new access token is refused")
        try:
            credentials["username"] = str(response.json()["name"])
        except (ValueError, KeyError, TypeError) as error:
            raise MalformedPayload("Reddit's /api/v1/me does not name the account.") from error
        return credentials

    # --- the client ---------------------------------------------------------------------------

    def addresses(self, channel, credentials) -> list[tuple[str, str]]:
        return [
            ("credentials", str(credentials[key]))
            for key in ("oauth_url", "reddit_url")
            if credentials.get(key)
        ]

    def subreddit_name(self, channel) -> str:
        name = str((channel.options or {}).get("subreddit") or channel.handle or "").strip()
        name = re.sub(r"^/?r/", "", name).strip("/")
        if not name or not name.replace("_", "").isalnum():
            raise PermanentError(f"{channel.handle!r} does not name a subreddit (r/name).")
        return name

    def _listing(self, api: praw.Reddit, path: str, params: dict[str, Any] | None = None) -> list[dict]:
        listing = self._call(
            api.request,
            method="GET",
            path=path,
            params={"limit": PAGE_SIZE, "raw_json": 1, **(params or {})},
            scope="read",
        )
        try:
            return _children(listing)
        except SearchMalformed as error:
            raise MalformedPayload(str(error)) from error

    def _brand(self, channel) -> tuple[str, str, str]:
        credentials = channel.read_credentials() if channel.has_credentials else {}
        username = str(credentials.get("username") or (channel.options or {}).get("account") or "")
        return username.lower(), channel.handle, channel.name

    # --- in -------------------------------------------------------------------------------------

    def pull(self, channel, cursor: str) -> PullResult:
        seen = _read_cursor(cursor)
        api = self.client(channel)
        subreddit = self.subreddit_name(channel)
        brand, web = self._brand(channel), self._web(channel)
        items: dict[str, IncomingItem] = {}
        newest: dict[str, Any] = {}
        for thing, path in (("t3", f"/r/{subreddit}/new"), ("t1", f"/r/{subreddit}/comments")):
            last = int(seen.get(thing, 0))
            top = last
            for child in self._listing(api, path):
                number = _id36(str((child.get("data") or {}).get("name") or ""))
                top = max(top, number)
                if number > last:
                    item = parse_thing(child, brand=brand, web=web)
                    items[item.external_id] = item
            newest[thing] = top
        # The mod queue: what Reddit's filters hold and what people reported. A thing comes in
        # again when its reports changed.
        queue_seen = dict(seen.get("queue") or {})
        queue_now: dict[str, int] = {}
        for child in self._listing(api, f"/r/{subreddit}/about/modqueue"):
            item = parse_thing(child, brand=brand, web=web)
            item.raw["in_mod_queue"] = True
            reports = int(item.metrics.get("num_reports") or 0)
            queue_now[item.external_id] = reports
            if queue_seen.get(item.external_id) != reports:
                items[item.external_id] = item
        newest["queue"] = dict(list(queue_now.items())[:MAX_SEEN])
        query = str(setting(channel, "mentions_query") or "").strip()
        if query:
            found = self._search_mentions(api, query, seen.get("mentions") or [], subreddit, brand, web)
            newest["mentions"] = found["seen"]
            for item in found["items"]:
                items.setdefault(item.external_id, item)
        return PullResult(items=list(items.values()), cursor=json.dumps(newest, sort_keys=True))

    def _search_mentions(
        self, api, query: str, seen: list[str], subreddit: str, brand, web: str
    ) -> dict[str, Any]:
        """The brand's mentions on the rest of Reddit (the same search as listening's, through the
        channel's OAuth session); those in its own subreddit come with the pull already."""
        children = self._listing(api, "/search", {"q": query, "sort": "new", "type": "link,comment"})
        known = set(seen)
        items = [
            parse_thing(child, brand=brand, web=web, kind="mention")
            for child in children
            if str(child["data"].get("name")) not in known
            and str(child["data"].get("subreddit", "")).lower() != subreddit.lower()
            and str(child["data"].get("author", "")).lower() != brand[0]
        ]
        return {
            "items": items,
            "seen": [str(child["data"].get("name")) for child in children][:MAX_SEEN] or seen,
        }

    # --- out ------------------------------------------------------------------------------------

    def _thing(self, api: praw.Reddit, external_id: str):
        kind, _sep, thing_id = external_id.partition("_")
        if kind == "t3" and thing_id:
            return api.submission(id=thing_id)
        if kind == "t1" and thing_id:
            return api.comment(id=thing_id)
        raise PermanentError(f"{external_id!r} is not a Reddit post or comment (t3_/t1_).")

    def reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        api = self.client(channel)
        comment = self._call(
            self._thing(api, in_reply_to.external_id).reply, text, sending=True, scope="submit"
        )
        if comment is None:
            raise PermanentError("Reddit did not create the comment (the thread is locked or archived).")
        delivered = self._delivered(channel, comment)
        if str(setting(channel, "distinguish_replies") or "").lower() in ("yes", "true", "1"):
            # The reply is out: a missing green badge must not send it again.
            with contextlib.suppress(PermanentError, TransientError):
                self._call(comment.mod.distinguish, how="yes", scope="modposts")
        return delivered

    def _delivered(self, channel, comment) -> Delivered:
        try:
            return Delivered(external_id=f"t1_{comment.id}", url=self._web(channel) + str(comment.permalink))
        except AttributeError as error:
            raise MalformedPayload("Reddit answered without the comment.", maybe_delivered=True) from error

    def _web(self, channel) -> str:
        credentials = channel.read_credentials() if channel.has_credentials else {}
        return str(credentials.get("reddit_url") or DEFAULT_BASE).rstrip("/")

    def find_delivered(self, channel, idempotency_key: str) -> Delivered | None:
        """The comment an interrupted attempt created, among the account's latest: the same parent
        and text, created since the action was queued, and no other action's."""
        from palabre.connectors.models import OutboundAction

        action = OutboundAction.objects.select_related("item").for_key(channel, idempotency_key).first()
        if action is None or action.item is None:
            return None
        api = self.client(channel)
        me = self._call(api.user.me, scope="identity")
        children = self._listing(api, f"/user/{me.name}/comments", {"sort": "new"})
        names = [str(child["data"].get("name")) for child in children]
        taken = set(
            OutboundAction.objects.filter(channel=channel, external_id__in=names)
            .exclude(pk=action.pk)
            .values_list("external_id", flat=True)
        )
        wanted = " ".join(action.text.split())
        for child in children:
            data = child["data"]
            if (
                str(data.get("parent_id")) == action.item.external_id
                and datetime.fromtimestamp(float(data["created_utc"]), tz=UTC)
                >= action.created_at - FIND_SKEW
                and str(data.get("name")) not in taken
                and " ".join(str(data.get("body") or "").split()) == wanted
            ):
                return Delivered(
                    external_id=str(data["name"]), url=self._web(channel) + str(data.get("permalink", ""))
                )
        return None

    def hide(self, channel, item) -> None:
        api = self.client(channel)
        self._call(self._thing(api, item.external_id).mod.remove, scope="modposts")

    def unhide(self, channel, item) -> None:
        api = self.client(channel)
        self._call(self._thing(api, item.external_id).mod.approve, scope="modposts")

    def delete(self, channel, item) -> None:
        api = self.client(channel)
        thing = self._thing(api, item.external_id)
        if item.author is not None and item.author.handle == channel.handle:
            self._call(thing.delete, scope="edit")
        else:
            self._call(thing.mod.remove, spam=True, scope="modposts")

    def lock(self, channel, item) -> None:
        """Lock a post or comment: nobody but moderators can answer under it."""
        api = self.client(channel)
        self._call(self._thing(api, item.external_id).mod.lock, scope="modposts")

    def ban_author(self, channel, item) -> None:
        author = (item.raw or {}).get("author") or (item.author.handle if item.author else "")
        if not author or author == "[deleted]":
            raise PermanentError("The item does not name its Reddit author.")
        api = self.client(channel)
        days = setting(channel, "ban_days")
        extra = {"duration": int(days)} if days else {}
        self._call(
            api.subreddit(self.subreddit_name(channel)).banned.add,
            author,
            ban_reason="Banned by the community's moderators",
            scope="modcontributors",
            **extra,
        )

    def health(self, channel) -> ChannelHealthInfo:
        """The account (`/api/v1/me`), the token's scopes (Reddit gives them with the token; a
        script app's are all, `*`), and the account's moderator permissions on the subreddit."""
        api = self.client(channel)
        subreddit = self.subreddit_name(channel)
        me = self._call(api.user.me, scope="identity")
        if me is None:
            raise TokenExpired("Reddit: the credentials name no account.")
        scopes = sorted(self._call(api.auth.scopes))
        missing = [scope for scope in NEEDED_SCOPES if "*" not in scopes and scope not in scopes]
        if missing:
            raise PermissionMissing(
                "Reddit: the token lacks the scope(s) "
                + ", ".join(missing)
                + f" (it has: {', '.join(scopes) or 'none'}). "
                "Connect again, granting them."
            )
        moderators = self._call(api.subreddit(subreddit).moderator, redditor=me.name, scope="read")
        if not moderators:
            raise PermissionMissing(
                f"Reddit: u/{me.name} is not a moderator of r/{subreddit}; approving, removing, "
                "locking and banning need one (with the posts and users permissions)."
            )
        permissions = list(getattr(moderators[0], "mod_permissions", []) or [])
        lacking = [p for p in ("posts", "access") if "all" not in permissions and p not in permissions]
        if lacking:
            raise PermissionMissing(
                f"Reddit: u/{me.name} moderates r/{subreddit} without the permission(s) {', '.join(lacking)}."
            )
        return ChannelHealthInfo(
            account=f"u/{me.name}",
            scopes=tuple(scopes),
            details={
                "subreddit": subreddit,
                "mod_permissions": permissions,
                "ratelimit": api.palabre_session.palabre_ratelimit,
            },
            permissions_checked="verified",
        )

    # --- listening ------------------------------------------------------------------------------

    def search(self, config: dict, cursor: dict) -> SearchPage:
        """The newest posts and comments for `query` (in `subreddit` when given), those the cursor
        has seen left out: Reddit's public JSON search, for a listening source."""
        base = config.get("base_url") or DEFAULT_BASE
        subreddit = config.get("subreddit")
        path = f"/r/{quote(subreddit)}/search.json" if subreddit else "/search.json"
        params: dict[str, Any] = {"q": config["query"], "sort": "new", "limit": PAGE_SIZE, "raw_json": 1}
        if subreddit:
            params["restrict_sr"] = "on"
        response = searching.get(base + path, params=params, headers={"User-Agent": user_agent()})
        try:
            listing = response.json()
        except ValueError as error:
            raise SearchMalformed(_("Reddit did not answer JSON.")) from error
        candidates = reddit_candidates(listing, base)
        seen = set(cursor.get("seen", []))
        fresh = [c for c in candidates if c.external_id not in seen]
        keep = [c.external_id for c in candidates][:MAX_SEEN]
        return SearchPage(fresh, {"seen": keep or list(seen)})


def setting(channel, name: str) -> Any:
    """A channel setting: typed with the credentials (the channel's Credentials page and the API),
    else in the channel's options."""
    credentials = channel.read_credentials() if channel.has_credentials else {}
    value = credentials.get(name)
    return value if value not in (None, "") else (channel.options or {}).get(name)


def search(config: dict, cursor: dict) -> SearchPage:
    """Listening's Reddit search: the connector's (`RedditConnector.search`)."""
    return RedditConnector().search(config, cursor)
