"""Discord through its documented HTTP API (v10), against a loopback server answering with payloads
shaped as docs.discord.com shows them (fixtures/): channel messages with the `after` cursor, replies
as threads, a reply sent once (nonce, and found again after a timeout), delete, timeout of a
member, rate limits from the body and the headers, expired token, missing permission."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from platform_server import Answer, load_fixture

from palabre.connectors import services
from palabre.connectors.base import Capability, PermissionMissing, RateLimited, TokenExpired
from palabre.connectors.discord import DiscordConnector, nonce
from palabre.connectors.registry import connector_class_for
from palabre.conversations.models import Item
from palabre.conversations.services import ingest_item

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 3, 2, 14, 8, tzinfo=UTC)
GUILD, SUPPORT, BOT = "1101010101010101010", "1202020202020202020", "1303030303030303030"
MESSAGES = f"/channels/{SUPPORT}/messages"


def fixture(name):
    return load_fixture(FIXTURES, name)


def body(name):
    return fixture(name)["body"]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def server(platform_server):
    platform_server.on("GET", "/users/@me", Answer(body=fixture("users_me.json")))
    return platform_server


@pytest.fixture
def guild(org, make_channel, server):
    channel = make_channel(
        org,
        "discord",
        handle="maison-dupont",
        name="Discord Maison Dupont",
        credentials={"bot_token": "bot-secret-token", "guild_id": GUILD, "channel_ids": SUPPORT},
    )
    channel.options = {**channel.options, "api_base_url": server.url}
    channel.save(update_fields=["options"])
    return channel


def _pulled(guild, server, cursor=""):
    return DiscordConnector().pull(guild, cursor)


def _stored(guild, server) -> Item:
    server.on("GET", MESSAGES, Answer(body=body("messages_latest.json")))
    for item in _pulled(guild, server).items:
        ingest_item(channel=guild, incoming=item)
    return Item.objects.get(channel=guild, external_id="1350000000000000002")


def test_registered_with_honest_capabilities():
    assert connector_class_for("discord") is DiscordConnector
    capabilities = DiscordConnector.capabilities
    assert {Capability.PULL, Capability.REPLY, Capability.DELETE, Capability.BAN_AUTHOR} <= capabilities
    assert Capability.HIDE not in capabilities  # Discord cannot hide a message


def test_first_pull_reads_the_latest_page_with_replies_as_threads(guild, server):
    server.on("GET", MESSAGES, Answer(body=body("messages_latest.json")))
    result = _pulled(guild, server)
    by_id = {item.external_id: item for item in result.items}
    # The member-join system message (type 7) is not a person's message.
    assert set(by_id) == {"1350000000000000002", "1350000000000000003"}
    question, answer = by_id["1350000000000000002"], by_id["1350000000000000003"]
    assert question.author.display_name == "Camille D." and question.metrics["reactions"] == 3
    assert answer.parent_external_id == question.external_id and answer.kind == "reply"
    assert question.url == f"https://discord.com/channels/{GUILD}/{SUPPORT}/1350000000000000002"
    assert question.raw == {"channel_id": SUPPORT, "author_id": "4101", "bot": False}
    assert json.loads(result.cursor) == {SUPPORT: "1350000000000000003"}
    assert server.made("GET", MESSAGES)[0].query == {"limit": ["100"]}
    assert server.made("GET", MESSAGES)[0].headers["Authorization"] == "Bot bot-secret-token"


def test_next_pulls_page_forward_with_after(guild, server):
    server.on(
        "GET",
        MESSAGES,
        Answer(body=body("messages_after_full.json")),
        Answer(body=body("messages_after_last.json")),
    )
    result = _pulled(guild, server, json.dumps({SUPPORT: "1350000000000000003"}))
    assert len(result.items) == 101
    asked = [request.query["after"] for request in server.made("GET", MESSAGES)]
    assert asked == [["1350000000000000003"], ["1350000000000001100"]]
    assert json.loads(result.cursor) == {SUPPORT: "1350000000000002000"}


def test_a_spent_rate_limit_bucket_ends_the_pull_where_it_is(guild, server):
    spent = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "1.5"}
    server.on("GET", MESSAGES, Answer(body=body("messages_after_full.json"), headers=spent))
    result = _pulled(guild, server, json.dumps({SUPPORT: "1350000000000000003"}))
    assert len(server.made("GET", MESSAGES)) == 1
    assert json.loads(result.cursor) == {SUPPORT: "1350000000000001100"}


def test_reply_references_the_message_and_carries_a_nonce(guild, server, owner_actor):
    question = _stored(guild, server)
    server.on("POST", MESSAGES, Answer(200, fixture("message_created.json")))
    action = services.queue_reply(actor=owner_actor, item=question, text="oui, sous 48 h.")
    assert services.deliver(action.pk).outcome == "sent"
    sent = server.made("POST", MESSAGES)[0].json()
    assert sent["message_reference"] == {"message_id": "1350000000000000002", "fail_if_not_exists": False}
    assert (
        sent["nonce"] == nonce(action.idempotency_key) and len(sent["nonce"]) <= 25 and sent["enforce_nonce"]
    )
    assert sent["allowed_mentions"]["parse"] == []
    action.refresh_from_db()
    assert action.external_id == "1350000000000000400"


def test_a_reply_that_timed_out_after_it_was_posted_is_found_not_posted_twice(
    guild, server, owner_actor, monkeypatch
):
    question = _stored(guild, server)
    monkeypatch.setenv("PALABRE_CONNECTORS_HTTP_TIMEOUT", "0.3")
    created = fixture("message_created.json")
    server.on("POST", MESSAGES, Answer(200, created, delay=0.8))
    server.on("GET", MESSAGES, Answer(body=[created, *body("messages_latest.json")]))
    action = services.queue_reply(actor=owner_actor, item=question, text="oui, sous 48 h.")
    assert services.deliver(action.pk).outcome == "sent"
    assert services.deliver(action.pk).outcome == "skipped:sent"
    assert len(server.made("POST", MESSAGES)) == 1
    action.refresh_from_db()
    assert action.external_id == "1350000000000000400"


def test_delete_and_timeout_the_author(guild, server):
    question = _stored(guild, server)
    path = f"{MESSAGES}/1350000000000000002"
    server.on("DELETE", path, Answer(204, b""))
    DiscordConnector().delete(guild, question)
    assert server.made("DELETE", path)[0].headers["X-Audit-Log-Reason"]
    member = f"/guilds/{GUILD}/members/4101"
    server.on("PATCH", member, Answer(204, b""))
    DiscordConnector().ban_author(guild, question)
    until = datetime.fromisoformat(server.made("PATCH", member)[0].json()["communication_disabled_until"])
    assert until == NOW + timedelta(minutes=60)


def test_rate_limited_reads_the_body_then_the_header(guild, server):
    server.on(
        "GET",
        MESSAGES,
        Answer(429, fixture("error_429_global.json"), headers={"X-RateLimit-Scope": "global"}),
    )
    with pytest.raises(RateLimited, match="global") as limited:
        _pulled(guild, server)
    assert limited.value.retry_after == pytest.approx(64.57)
    server.on("GET", MESSAGES, Answer(429, b"", headers={"Retry-After": "7", "X-RateLimit-Scope": "user"}))
    with pytest.raises(RateLimited, match="user") as limited:
        _pulled(guild, server)
    assert limited.value.retry_after == 7


def test_reset_token_is_token_expired_and_a_missing_permission_named(guild, server):
    question = _stored(guild, server)
    server.on(
        "DELETE",
        f"{MESSAGES}/1350000000000000002",
        Answer(403, fixture("error_403_missing_permissions.json")),
    )
    with pytest.raises(PermissionMissing, match="50013"):
        DiscordConnector().delete(guild, question)
    server.on("GET", "/users/@me", Answer(401, fixture("error_401.json")))
    with pytest.raises(TokenExpired):
        _pulled(guild, server)


def test_health_checks_the_message_content_intent_and_the_channels(guild, server):
    server.on("GET", "/applications/@me", Answer(body=fixture("application_me.json")))
    server.on("GET", f"/channels/{SUPPORT}", Answer(body=fixture("channel.json")))
    info = DiscordConnector().health(guild)
    assert info.account == "MaisonDupontBot" and info.permissions_checked == "partial"
    server.on("GET", "/applications/@me", Answer(body={**fixture("application_me.json"), "flags": 0}))
    with pytest.raises(PermissionMissing, match="Message Content"):
        DiscordConnector().health(guild)
