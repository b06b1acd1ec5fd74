"""A brand's subreddit through the real PRAW (and prawcore), against a loopback server answering
with payloads shaped as reddit.com/dev/api documents them (fixtures/): new posts and comments
with cursors, the mod queue's reports, the brand's mentions elsewhere, a reply sent once,
moderation (remove, approve, spam, lock, ban), expired logins, rate limits and scopes."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pytest
from django.utils import timezone
from platform_server import Answer, load_fixture

from palabre.connectors import services
from palabre.connectors.base import (
    Capability,
    PermanentError,
    PermissionMissing,
    RateLimited,
    TokenExpired,
    TransientError,
)
from palabre.connectors.models import ActionStatus, ChannelSync
from palabre.connectors.reddit import RedditConnector, user_agent
from palabre.connectors.registry import connector_class_for
from palabre.connectors.sync import pull_channel
from palabre.conversations.models import Item
from palabre.orgs.services import Actor, set_channel_credentials

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "/api/v1/access_token"
NEW = "/r/maisondupont/new"
COMMENTS = "/r/maisondupont/comments"
QUEUE = "/r/maisondupont/about/modqueue"
COMMENT = "/api/comment/"


def fixture(name):
    return load_fixture(FIXTURES, name)


@pytest.fixture
def sub(org, make_channel, platform_server):
    platform_server.on("POST", TOKEN, Answer(body=fixture("access_token.json")))
    return make_channel(
        org,
        "reddit",
        handle="r/maisondupont",
        name="r/maisondupont",
        credentials={
            "client_id": "p-jcoLKBynTLew",
            "client_secret": "gko_LXELoV07ZBNUXrvWZfzE3aI",
            "username": "maisondupont_mod",
            "password": "hunter2",
            "oauth_url": platform_server.url,
            "reddit_url": platform_server.url,
        },
    )


def _settings(channel, **settings):
    """The channel's settings, typed with its credentials as a person would (checked, stored)."""
    credentials = {**channel.read_credentials(), **settings}
    set_channel_credentials(
        actor=Actor.palabre(channel.organisation), channel=channel, credentials=credentials
    )
    channel.refresh_from_db()


def _listings(
    server, new="subreddit_new.json", comments="subreddit_comments.json", queue="empty_listing.json"
):
    server.on("GET", NEW, Answer(body=fixture(new)))
    server.on("GET", COMMENTS, Answer(body=fixture(comments)))
    server.on("GET", QUEUE, Answer(body=fixture(queue)))


def test_registered_with_the_oauth_web_flow_and_honest_capabilities():
    assert connector_class_for("reddit") is RedditConnector
    spec = RedditConnector.oauth
    assert spec.authorize_url == "https://www.reddit.com/api/v1/authorize"
    assert ("duration", "permanent") in spec.extra_authorize_params
    assert spec.token_auth == "client_secret_basic"
    assert {"identity", "read", "submit", "modposts"} <= set(spec.scopes)
    assert Capability.SEARCH in RedditConnector.capabilities
    assert Capability.PUBLISH not in RedditConnector.capabilities


def test_first_pull_logs_in_and_reads_posts_comments_and_the_mod_queue(sub, platform_server):
    _listings(platform_server, queue="modqueue.json")
    result = RedditConnector().pull(sub, "")
    token = platform_server.made("POST", TOKEN)[0]
    assert token.form()["grant_type"] == ["password"] and token.form()["username"] == ["maisondupont_mod"]
    listing = platform_server.made("GET", NEW)[0]
    assert listing.headers["Authorization"].startswith("bearer ")
    # Reddit's User-Agent rule: platform:app id:version (by /u/username).
    assert listing.headers["User-Agent"].startswith(
        "python:fr.palabre.community:v0.1 (by /u/maisondupont_mod)"
    )
    assert listing.query["limit"] == ["100"] and listing.query["raw_json"] == ["1"]
    by_id = {item.external_id: item for item in result.items}
    assert set(by_id) == {"t3_1cm2b7k", "t3_1cm1z0a", "t1_l2x9c01", "t1_l2x8zz0", "t1_l2x7aa3"}
    post = by_id["t3_1cm2b7k"]
    assert post.kind == "post" and post.text.startswith(
        "Canapé Oslo : retard de livraison\n\nCommandé le 2 avril"
    )
    assert post.author.handle == "Camille_R"
    assert (
        post.url
        == f"{platform_server.url}/r/maisondupont/comments/1cm2b7k/canapé_oslo_:_retard_de_livraison/"
    )
    brand = by_id["t1_l2x8zz0"]
    assert brand.author.handle == "r/maisondupont" and brand.kind == "comment"  # the brand's own
    reply = by_id["t1_l2x9c01"]
    assert reply.kind == "reply" and reply.parent_external_id == "t1_l2x8zz0"
    spam = by_id["t1_l2x7aa3"]
    assert spam.raw["in_mod_queue"] and spam.metrics["num_reports"] == 2
    assert spam.raw["reports"] == [["Spam", 2, False, False]]
    cursor = json.loads(result.cursor)
    assert cursor["t3"] == int("1cm2b7k", 36) and cursor["t1"] == int("l2x9c01", 36)
    json.dumps([item.raw for item in result.items])


def test_next_pulls_keep_to_what_is_new_and_build_one_thread(sub, platform_server):
    _listings(platform_server)
    assert pull_channel(sub.pk)["items"] == 4
    _listings(platform_server, new="subreddit_new_newer.json")
    assert pull_channel(sub.pk, force=True)["items"] == 1  # only the new post
    assert Item.objects.get(channel=sub, external_id="t3_1cm3aa1").kind == "post"
    post = Item.objects.get(channel=sub, external_id="t3_1cm2b7k")
    reply = Item.objects.get(channel=sub, external_id="t1_l2x9c01")
    assert reply.thread_root == post and reply.parent.external_id == "t1_l2x8zz0"
    # The same listings again store nothing twice.
    pull_channel(sub.pk, force=True)
    assert Item.objects.filter(channel=sub).count() == 5


def test_the_brands_mentions_elsewhere_come_through_the_same_search(sub, platform_server):
    _settings(sub, mentions_query='"Maison Dupont"')
    _listings(platform_server, new="empty_listing.json", comments="empty_listing.json")
    platform_server.on("GET", "/search", Answer(body=fixture("mentions_search.json")))
    result = RedditConnector().pull(sub, "")
    search = platform_server.made("GET", "/search")[0]
    assert search.query["q"] == ['"Maison Dupont"'] and search.query["sort"] == ["new"]
    # The post in the brand's own subreddit comes with the pull, not as a mention.
    [mention] = result.items
    assert mention.kind == "mention" and mention.external_id == "t1_l2w5555"
    assert mention.raw["subreddit"] == "france"
    again = RedditConnector().pull(sub, result.cursor)
    assert again.items == []


def test_reply_once_and_distinguished_as_moderator(sub, platform_server, owner_actor):
    _settings(sub, distinguish_replies="yes")
    _listings(platform_server)
    pull_channel(sub.pk)
    jules = Item.objects.get(channel=sub, external_id="t1_l2x9c01")
    platform_server.on("POST", COMMENT, Answer(body=fixture("comment_created.json")))
    platform_server.on(
        "POST", "/api/distinguish/", Answer(body={"json": {"errors": [], "data": {"things": []}}})
    )
    action = services.queue_reply(
        actor=owner_actor, item=jules, text="Bonjour Jules, nous regardons la commande 7712."
    )
    assert services.deliver(action.pk).outcome == "sent"
    [sent] = platform_server.made("POST", COMMENT)
    assert sent.form()["thing_id"] == ["t1_l2x9c01"]
    assert sent.form()["text"] == ["Bonjour Jules, nous regardons la commande 7712."]
    distinguish = platform_server.made("POST", "/api/distinguish/")[0].form()
    assert distinguish["id"] == ["t1_l2xb001"] and distinguish["how"] == ["yes"]
    action.refresh_from_db()
    assert action.external_id == "t1_l2xb001"
    assert action.url == f"{platform_server.url}/r/maisondupont/comments/1cm2b7k/_/l2xb001/"
    assert Item.objects.get(channel=sub, external_id="t1_l2xb001").parent == jules


def test_a_reply_whose_answer_was_lost_is_found_not_posted_twice(sub, platform_server, owner_actor, ingest):
    question = ingest(sub, "t1_l2x9c01", author="jules_b")
    text = "Bonjour Jules, nous regardons la commande 7712."
    created = fixture("comment_created.json")["json"]["data"]["things"][0]
    created["data"]["created_utc"] = timezone.now().astimezone(UTC).timestamp()
    # Reddit made the comment, then a 502 came back: prawcore would retry it (a second comment).
    platform_server.on("POST", COMMENT, Answer(502, "<html>Bad Gateway</html>", {}, "text/html"))
    platform_server.on("GET", "/api/v1/me", Answer(body=fixture("me.json")))
    user_comments = {"kind": "Listing", "data": {"after": None, "before": None, "children": [created]}}
    platform_server.on("GET", "/user/maisondupont_mod/comments", Answer(body=user_comments))
    action = services.queue_reply(actor=owner_actor, item=question, text=text)
    # Not retried by prawcore: the outbox looks for the comment, finds it, and sends nothing again.
    assert services.deliver(action.pk).outcome == "sent"
    assert len(platform_server.made("GET", "/user/maisondupont_mod/comments")) == 1
    assert len(platform_server.made("POST", COMMENT)) == 1
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT and action.external_id == "t1_l2xb001"


def test_moderation_remove_approve_spam_delete_lock_and_ban(sub, platform_server, ingest):
    spam = ingest(sub, "t1_l2x7aa3", author="promo_bot", raw={"author": "promo_bot"})
    own = ingest(sub, "t1_l2x8zz0", author=sub.handle)
    for path in ("/api/remove/", "/api/approve/", "/api/del/", "/api/lock/"):
        platform_server.on("POST", path, Answer(body={}))
    platform_server.on("POST", "/r/maisondupont/api/friend/", Answer(body={"json": {"errors": []}}))
    connector = RedditConnector()
    connector.hide(sub, spam)
    connector.unhide(sub, spam)
    connector.delete(sub, spam)  # someone else's: removed as spam
    connector.delete(sub, own)  # the brand's own: deleted
    connector.lock(sub, spam)
    connector.ban_author(sub, spam)
    removes = [r.form() for r in platform_server.made("POST", "/api/remove/")]
    assert removes[0]["id"] == ["t1_l2x7aa3"] and removes[0]["spam"] == ["False"]
    assert removes[1]["spam"] == ["True"]
    assert platform_server.made("POST", "/api/approve/")[0].form()["id"] == ["t1_l2x7aa3"]
    assert platform_server.made("POST", "/api/del/")[0].form()["id"] == ["t1_l2x8zz0"]
    assert platform_server.made("POST", "/api/lock/")[0].form()["id"] == ["t1_l2x7aa3"]
    ban = platform_server.made("POST", "/r/maisondupont/api/friend/")[0].form()
    assert ban["name"] == ["promo_bot"] and ban["type"] == ["banned"]


def test_a_refused_login_is_token_expired(sub, platform_server):
    platform_server.on("POST", TOKEN, Answer(body={"error": "invalid_grant"}))
    with pytest.raises(TokenExpired, match="invalid_grant"):
        RedditConnector().pull(sub, "")
    assert pull_channel(sub.pk)["error"] == "token_expired"
    assert ChannelSync.objects.get(channel=sub).consecutive_failures == 1


def test_rate_limits_from_reddits_headers(sub, platform_server, ingest):
    # No requests left in the window: an error with the reset, not a sleep until it.
    headers = {"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "137", "X-Ratelimit-Used": "100"}
    platform_server.on("GET", NEW, Answer(body=fixture("subreddit_new.json"), headers=headers))
    with pytest.raises(RateLimited) as limited:
        RedditConnector().pull(sub, "")
    assert limited.value.retry_after == 137
    question = ingest(sub, "t1_l2x9c01", author="jules_b")
    platform_server.on("POST", COMMENT, Answer(429, {"message": "Too Many Requests", "error": 429}, headers))
    with pytest.raises(RateLimited) as limited:
        RedditConnector().reply(sub, in_reply_to=question, text="Bonjour", idempotency_key="k")
    assert limited.value.retry_after == 137


def test_missing_scope_or_moderation_rights(sub, platform_server, ingest):
    spam = ingest(sub, "t1_l2x7aa3", author="promo_bot")
    platform_server.on(
        "POST",
        "/api/remove/",
        Answer(
            403,
            {"message": "Forbidden", "error": 403},
            {"www-authenticate": 'Bearer realm="reddit", error="insufficient_scope"'},
        ),
    )
    with pytest.raises(PermissionMissing, match="modposts"):
        RedditConnector().hide(sub, spam)
    platform_server.on("POST", "/api/remove/", Answer(403, {"message": "Forbidden", "error": 403}))
    with pytest.raises(PermissionMissing, match="moderator"):
        RedditConnector().hide(sub, spam)


def test_health_checks_the_account_scopes_and_moderator_rights(sub, platform_server):
    platform_server.on("GET", "/api/v1/me", Answer(body=fixture("me.json")))
    platform_server.on(
        "GET",
        "/r/maisondupont/about/moderators/",
        Answer(
            body=fixture("moderators.json"),
            headers={"X-Ratelimit-Remaining": "598", "X-Ratelimit-Reset": "300", "X-Ratelimit-Used": "2"},
        ),
    )
    info = RedditConnector().health(sub)
    assert info.account == "u/maisondupont_mod" and info.permissions_checked == "verified"
    assert info.details["mod_permissions"] == ["all"] and info.details["ratelimit"]["remaining"] == "598"
    assert platform_server.made("GET", "/r/maisondupont/about/moderators/")[0].query["user"] == [
        "maisondupont_mod"
    ]
    platform_server.on(
        "GET",
        "/r/maisondupont/about/moderators/",
        Answer(body={"kind": "UserList", "data": {"children": []}}),
    )
    with pytest.raises(PermissionMissing, match="not a moderator of r/maisondupont"):
        RedditConnector().health(sub)
    token = {**fixture("access_token.json"), "scope": "identity read"}
    platform_server.on("POST", TOKEN, Answer(body=token))
    with pytest.raises(PermissionMissing, match="submit"):
        RedditConnector().health(sub)


def test_user_agent_follows_reddits_rule():
    assert user_agent("brand_mod") == "python:fr.palabre.community:v0.1 (by /u/brand_mod)"


def test_the_web_app_flow_keeps_the_tokens_and_names_the_account(sub, platform_server):
    platform_server.on("GET", "/api/v1/me", Answer(body=fixture("me.json")))
    now = timezone.now()
    token = {"access_token": "new-access", "refresh_token": "new-refresh", "expires_in": 3600, "scope": "*"}
    credentials = RedditConnector().credentials_from_token(sub, token, now=now)
    assert credentials["access_token"] == "new-access" and credentials["refresh_token"] == "new-refresh"
    assert credentials["username"] == "maisondupont_mod"
    assert platform_server.made("GET", "/api/v1/me")[0].headers["Authorization"] == "bearer new-access"


def test_reddits_ratelimit_error_waits_what_it_says(sub, platform_server, ingest):
    question = ingest(sub, "t1_l2x9c01", author="jules_b")
    refused = {
        "json": {
            "errors": [["RATELIMIT", "you are doing that too much. try again in 5 minutes.", "ratelimit"]]
        }
    }
    platform_server.on("POST", COMMENT, Answer(body=refused))
    with pytest.raises(RateLimited) as limited:
        RedditConnector().reply(sub, in_reply_to=question, text="Bonjour", idempotency_key="k")
    assert limited.value.retry_after == 300


def test_a_server_error_prawcore_does_not_retry_is_transient_not_a_refusal(sub, platform_server, ingest):
    # 501 is neither retried by the session nor one of prawcore's named errors: its status says
    # what it is (the connectors' one reading of a status), a failure worth trying again.
    spam = ingest(sub, "t1_l2x7aa3", author="promo_bot")
    platform_server.on("POST", "/api/remove/", Answer(501, {"message": "Not Implemented", "error": 501}))
    with pytest.raises(TransientError, match="Reddit 501"):
        RedditConnector().hide(sub, spam)
    platform_server.on("POST", "/api/remove/", Answer(409, {"message": "Conflict", "error": 409}))
    with pytest.raises(PermanentError, match="Reddit 409: refused"):
        RedditConnector().hide(sub, spam)
