"""LinkedIn Pages through the Community Management API, against a loopback server answering with
payloads shaped as LinkedIn's documentation shows them (fixtures/): the page's posts, comments paged
with start/count, replies to comments as threads, a reply made as the page once (found again after
a timeout), publish, delete, OAuth spec and scopes, the access level, errors and rate limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import time_machine
from platform_server import Answer, load_fixture

from palabre.connectors import services
from palabre.connectors.base import Capability, PermissionMissing, RateLimited, TokenExpired
from palabre.connectors.linkedin import SCOPES, LinkedInConnector
from palabre.connectors.registry import connector_class_for
from palabre.conversations.models import Item
from palabre.conversations.services import ingest_item

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 3, 2, 14, 3, tzinfo=UTC)
ORG = "urn:li:organization:2414183"
POST = "urn:li:share:7170000000000000001"
ACT = "urn:li:activity:7170000000000000001"
FIRST = f"urn:li:comment:({ACT},7170100000000000001)"
COMMENTS = f"/socialActions/{quote(POST, safe='')}/comments"
REPLIES = f"/socialActions/{quote(FIRST, safe='')}/comments"


def fixture(name):
    return load_fixture(FIXTURES, name)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def page(org, make_channel, platform_server):
    channel = make_channel(
        org,
        "linkedin",
        handle="maison-dupont",
        name="Maison Dupont sur LinkedIn",
        credentials={
            "client_id": "86abcdefgh",
            "client_secret": "li-secret",
            "organization_id": "2414183",
            "access_token": "li-access-token",
            "refresh_token": "li-refresh-token",
            "scope": " ".join(SCOPES),
        },
    )
    channel.options = {**channel.options, "api_base_url": platform_server.url}
    channel.save(update_fields=["options"])
    return channel


def _serve_thread(server):
    server.on("GET", "/posts", Answer(body=fixture("posts.json")))
    server.on(
        "GET",
        COMMENTS,
        Answer(body=fixture("comments_page1.json")),
        Answer(body=fixture("comments_page2.json")),
    )
    server.on("GET", REPLIES, Answer(body=fixture("replies.json")))


def _stored(page, server) -> dict[str, Item]:
    _serve_thread(server)
    for item in LinkedInConnector().pull(page, "").items:
        ingest_item(channel=page, incoming=item)
    return {item.external_id: item for item in Item.objects.filter(channel=page)}


def test_registered_with_honest_capabilities_and_oauth():
    assert connector_class_for("linkedin") is LinkedInConnector
    assert Capability.HIDE not in LinkedInConnector.capabilities
    assert {
        Capability.PULL,
        Capability.REPLY,
        Capability.PUBLISH,
        Capability.DELETE,
    } <= LinkedInConnector.capabilities
    spec = LinkedInConnector.oauth
    assert spec.token_url == "https://www.linkedin.com/oauth/v2/accessToken"
    assert set(spec.scopes) == {"r_organization_social", "w_organization_social", "rw_organization_admin"}


def test_pull_reads_posts_comments_paged_and_replies_as_a_thread(page, platform_server):
    _serve_thread(platform_server)
    result = LinkedInConnector().pull(page, "")
    by_id = {item.external_id: item for item in result.items}
    assert by_id[POST].kind == "post" and by_id[POST].author.handle == "maison-dupont"
    first = by_id[FIRST]
    assert first.parent_external_id == POST and first.text == "Vos chaises sont-elles livrées montées ?"
    reply = next(item for item in result.items if item.kind == "reply")
    assert reply.parent_external_id == FIRST
    assert len([item for item in result.items if item.kind == "comment"]) == 3
    starts = [request.query["start"] for request in platform_server.made("GET", COMMENTS)]
    assert starts == [["0"], ["2"]]
    sent = platform_server.made("GET", "/posts")[0]
    assert sent.query["author"] == [ORG] and sent.headers["LinkedIn-Version"]
    assert sent.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert json.loads(result.cursor)["since"] > 0


def test_reply_as_the_page_once_even_after_a_timeout(page, platform_server, owner_actor, monkeypatch):
    first = _stored(page, platform_server)[FIRST]
    monkeypatch.setenv("PALABRE_CONNECTORS_HTTP_TIMEOUT", "0.3")
    created = fixture("comment_created.json")
    platform_server.on("POST", REPLIES, Answer(201, created, delay=0.8))
    platform_server.on(
        "GET",
        REPLIES,
        Answer(body={**fixture("replies.json"), "elements": [*fixture("replies.json")["elements"], created]}),
    )
    action = services.queue_reply(
        actor=owner_actor, item=first, text="Oui, livrées montées et prêtes à l'emploi."
    )
    assert services.deliver(action.pk).outcome == "sent"
    assert services.deliver(action.pk).outcome == "skipped:sent"
    posted = platform_server.made("POST", REPLIES)
    assert len(posted) == 1
    assert posted[0].json() == {
        "actor": ORG,
        "object": ACT,
        "message": {"text": "Oui, livrées montées et prêtes à l'emploi."},
        "parentComment": FIRST,
    }
    action.refresh_from_db()
    assert action.external_id == created["commentUrn"]


def test_publish_and_delete(page, platform_server):
    platform_server.on(
        "POST", "/posts", Answer(201, b"", headers={"x-restli-id": "urn:li:share:7170000000000000099"})
    )
    delivered = LinkedInConnector().publish(page, text="Portes ouvertes samedi.", idempotency_key="k1")
    assert delivered.external_id == "urn:li:share:7170000000000000099"
    body = platform_server.made("POST", "/posts")[0].json()
    assert (
        body["author"] == ORG
        and body["commentary"] == "Portes ouvertes samedi."
        and body["lifecycleState"] == "PUBLISHED"
    )
    comment = _stored(page, platform_server)[FIRST]
    path = f"/socialActions/{quote(ACT, safe='')}/comments/7170100000000000001"
    platform_server.on("DELETE", path, Answer(204, b""))
    LinkedInConnector().delete(page, comment)
    assert platform_server.made("DELETE", path)[0].query == {"actor": [ORG]}


def test_errors_expired_missing_scope_and_rate_limit(page, platform_server):
    platform_server.on("GET", "/posts", Answer(401, fixture("error_401.json")))
    with pytest.raises(TokenExpired, match="65601"):
        LinkedInConnector().pull(page, "")
    platform_server.on("GET", "/posts", Answer(403, fixture("error_403.json")))
    with pytest.raises(PermissionMissing, match="w_organization_social"):
        LinkedInConnector().pull(page, "")
    platform_server.on("GET", "/posts", Answer(429, fixture("error_429.json")))
    with pytest.raises(RateLimited) as limited:
        LinkedInConnector().pull(page, "")
    assert limited.value.retry_after == 3600
    platform_server.on(
        "GET", "/posts", Answer(429, fixture("error_429.json"), headers={"Retry-After": "120"})
    )
    with pytest.raises(RateLimited) as limited:
        LinkedInConnector().pull(page, "")
    assert limited.value.retry_after == 120


def test_health_shows_the_access_level_and_names_missing_scopes(page, platform_server):
    platform_server.on("GET", "/organizationAcls", Answer(body=fixture("organization_acls.json")))
    info = LinkedInConnector().health(page)
    assert info.details == {"access_level": "ADMINISTRATOR"} and info.permissions_checked == "verified"
    acls = fixture("organization_acls.json")
    acls["elements"][0]["role"] = "ANALYST"
    platform_server.on("GET", "/organizationAcls", Answer(body=acls))
    with pytest.raises(PermissionMissing, match="ANALYST"):
        LinkedInConnector().health(page)
    credentials = page.read_credentials()
    credentials["scope"] = "r_organization_social"
    from palabre.orgs.services import Actor, set_channel_credentials

    set_channel_credentials(actor=Actor.palabre(page.organisation), channel=page, credentials=credentials)
    with pytest.raises(PermissionMissing, match="w_organization_social, rw_organization_admin"):
        LinkedInConnector().health(page)


def test_credentials_from_token_keep_the_refresh_token_and_scopes(page):
    stored = LinkedInConnector().credentials_from_token(
        page,
        {
            "access_token": "a",
            "expires_in": 5184000,
            "refresh_token": "r",
            "scope": "r_organization_social,w_organization_social",
        },
        now=NOW,
    )
    assert stored["refresh_token"] == "r" and stored["scope"] == "r_organization_social,w_organization_social"
    assert stored["token_expires_at"] == "2026-05-01T14:03:00+00:00"
