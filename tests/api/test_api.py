"""The HTTP API, exercised over a real server on loopback (pytest-django's live_server) with httpx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.contrib.auth import get_user_model

from palabre.conversations.models import Item
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm, Role
from palabre.orgs.services import (
    Actor,
    accept_invitation,
    add_member,
    create_api_token,
    create_channel,
    create_organisation,
)

pytestmark = pytest.mark.django_db(transaction=True)
ALL_SCOPES = [p.value for p in Perm]


def _org(name: str):
    owner = get_user_model().objects.create_user(username=f"owner-{name}", password="pw-123456789")
    organisation = create_organisation(name=name, owner=owner)
    actor = Actor.for_user(owner, organisation)
    channel = create_channel(
        actor=actor, platform="mastodon", handle=f"@{name}@example.social", name=f"{name} Mastodon"
    )
    return organisation, actor, channel


@pytest.fixture
def world(live_server):
    org_a, owner_a, channel_a = _org("alpha")
    org_b, owner_b, channel_b = _org("beta")
    _token, token_a = create_api_token(actor=owner_a, name="all of A", scopes=ALL_SCOPES)
    _token, token_b = create_api_token(actor=owner_b, name="all of B", scopes=ALL_SCOPES)
    base = live_server.url + "/api"
    return {
        "a": httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token_a}"}, timeout=20),
        "b": httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token_b}"}, timeout=20),
        "anonymous": httpx.Client(base_url=base, timeout=20),
        "owner_a": owner_a,
        "channel_a": channel_a,
        "channel_b": channel_b,
        "base": base,
    }


def _item(external_id: str, text: str = "Bonjour, le canapé Oslo existe en vert ?", **extra) -> dict:
    return {
        "external_id": external_id,
        "kind": "comment",
        "text": text,
        "created_at": "2026-11-20T10:00:00+01:00",
        "author": {"handle": "@lea@example.social", "display_name": "Léa"},
        **extra,
    }


def test_openapi_and_docs_are_served(world):
    schema = world["anonymous"].get("/openapi.json")
    assert schema.status_code == 200
    assert "/api/items" in schema.json()["paths"]
    assert world["anonymous"].get("/docs").status_code == 200


def test_requests_without_a_valid_token_get_401(world):
    assert world["anonymous"].get("/channels").status_code == 401
    bad = httpx.get(world["base"] + "/channels", headers={"Authorization": "Bearer plb_nope_nope"})
    assert bad.status_code == 401
    assert bad.json()["error"] == "unauthenticated"


def test_an_organisation_sees_and_changes_nothing_of_another(world):
    a, channel_b = world["a"], world["channel_b"]
    assert [c["handle"] for c in a.get("/channels").json()] == ["@alpha@example.social"]
    assert a.get(f"/channels/{channel_b.pk}").status_code == 404
    assert a.patch(f"/channels/{channel_b.pk}", json={"name": "hacked"}).status_code == 404
    assert a.put(f"/channels/{channel_b.pk}/credentials", json={"credentials": {"t": "x"}}).status_code == 404
    ingest = a.post("/items/ingest", json={"channel_id": channel_b.pk, "items": [_item("x1")]})
    assert ingest.status_code == 404
    world["b"].post("/items/ingest", json={"channel_id": channel_b.pk, "items": [_item("b1")]})
    b_item = Item.objects.get(external_id="b1")
    assert a.get(f"/items/{b_item.pk}").status_code == 404
    assert a.get("/items").json()["items"] == []
    b_members = world["b"].get("/members").json()
    assert a.patch(f"/members/{b_members[0]['id']}", json={"role": "analyst"}).status_code == 404
    assert a.delete(f"/members/{b_members[0]['id']}").status_code == 404
    assert Channel.objects.get(pk=channel_b.pk).name == "beta Mastodon"


def test_token_scopes_limit_what_it_can_do(world):
    _token, read_only = create_api_token(
        actor=world["owner_a"], name="reader", scopes=["channels.view", "items.view"]
    )
    client = httpx.Client(base_url=world["base"], headers={"Authorization": f"Bearer {read_only}"})
    assert client.get("/channels").status_code == 200
    refused = client.post("/channels", json={"platform": "x", "handle": "@a", "name": "A"})
    assert refused.status_code == 403
    assert "channels.manage" in refused.json()["message"]
    assert client.get("/members").status_code == 403


def test_revoked_token_stops_working_at_once(world):
    a = world["a"]
    created = a.post("/tokens", json={"name": "temporary", "scopes": ["channels.view"]})
    assert created.status_code == 201
    plain = created.json()["token"]
    temp = httpx.Client(base_url=world["base"], headers={"Authorization": f"Bearer {plain}"})
    assert temp.get("/channels").status_code == 200
    assert "token" not in a.get("/tokens").json()[0]
    assert a.delete(f"/tokens/{created.json()['id']}").status_code == 200
    assert temp.get("/channels").status_code == 401


def test_invalid_input_names_the_field(world):
    a = world["a"]
    missing = a.post("/channels", json={"platform": "x", "handle": "@brand"})
    assert missing.status_code == 422
    assert "name" in missing.json()["fields"]
    unknown = a.post("/channels", json={"platform": "myspace", "handle": "@brand", "name": "Brand"})
    assert unknown.status_code == 422
    assert "platform" in unknown.json()["fields"]
    bad_kind = a.post(
        "/items/ingest", json={"channel_id": world["channel_a"].pk, "items": [_item("1", kind="tweet")]}
    )
    assert bad_kind.status_code == 422
    assert "items.0.kind" in bad_kind.json()["fields"]
    naive = _item("2", created_at="2026-11-20T10:00:00")
    second_bad = a.post(
        "/items/ingest", json={"channel_id": world["channel_a"].pk, "items": [_item("1"), naive]}
    )
    assert second_bad.status_code == 422
    assert "items.1.created_at" in second_bad.json()["fields"]
    assert not Item.objects.exists(), "a rejected batch stores nothing"
    role = a.post("/invitations", json={"email": "zoe@example.com", "role": "emperor"})
    assert role.status_code == 422 and "role" in role.json()["fields"]
    email = a.post("/invitations", json={"email": "zoe at example", "role": "analyst"})
    assert email.status_code == 422 and "email" in email.json()["fields"]


def test_malformed_and_oversized_bodies_get_a_json_4xx(world, settings):
    a = world["a"]
    broken = a.post("/channels", content=b'{"platform": ', headers={"Content-Type": "application/json"})
    assert 400 <= broken.status_code < 500
    assert broken.headers["content-type"].startswith("application/json")
    huge = {"channel_id": world["channel_a"].pk, "items": [_item("big", text="a" * 100_000)] * 30}
    too_big = a.post("/items/ingest", json=huge)
    assert too_big.status_code == 413
    assert too_big.json()["error"] == "too_large"


def test_ingesting_the_same_item_twice_yields_one_item_updated(world):
    a, channel = world["a"], world["channel_a"]
    first = a.post("/items/ingest", json={"channel_id": channel.pk, "items": [_item("m-1")]}).json()
    again = a.post(
        "/items/ingest",
        json={"channel_id": channel.pk, "items": [_item("m-1", text="Edited: en vert ou en bleu ?")]},
    ).json()
    assert first[0]["created"] is True and again[0]["created"] is False
    assert first[0]["id"] == again[0]["id"]
    assert Item.objects.filter(channel=channel, external_id="m-1").count() == 1
    assert a.get(f"/items/{first[0]['id']}").json()["text"] == "Edited: en vert ou en bleu ?"


def test_item_list_filters_and_cursor_pagination(world):
    a, channel = world["a"], world["channel_a"]
    start = datetime(2026, 11, 1, tzinfo=UTC)
    batch = [
        _item(
            f"p-{i}",
            text=f"message {i} {'remboursement' if i % 10 == 0 else 'merci'}",
            created_at=(start + timedelta(minutes=i // 2)).isoformat(),
            kind="comment" if i % 3 else "mention",
        )
        for i in range(130)
    ]
    assert a.post("/items/ingest", json={"channel_id": channel.pk, "items": batch}).status_code == 200
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        page = a.get("/items", params=params).json()
        seen += [item["external_id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 130
    mentions = a.get("/items", params={"kind": "mention", "limit": 200}).json()["items"]
    assert len(mentions) == 44 and all(i["kind"] == "mention" for i in mentions)
    refunds = a.get("/items", params={"q": "REMBOURSEMENT", "limit": 200}).json()["items"]
    assert len(refunds) == 13
    assert a.get("/items", params={"cursor": "garbage"}).status_code == 422
    assert a.get("/items", params={"limit": 10_000}).status_code == 422


def test_credentials_are_write_only(world):
    a = world["a"]
    created = a.post(
        "/channels",
        json={
            "platform": "bluesky",
            "handle": "brand.bsky.social",
            "name": "Bluesky",
            "credentials": {"identifier": "brand.bsky.social", "app_password": "s3cret-abcd"},
        },
    )
    assert created.status_code == 201
    assert created.json()["has_credentials"] is True
    assert "s3cret" not in created.text
    listing = a.get("/channels")
    assert "s3cret" not in listing.text
    replaced = a.put(
        f"/channels/{created.json()['id']}/credentials",
        json={"credentials": {"identifier": "brand.bsky.social", "app_password": "n3w-one"}},
    )
    assert replaced.status_code == 200 and replaced.json()["id"] == created.json()["id"]
    assert "n3w-one" not in replaced.text
    assert Channel.objects.get(pk=created.json()["id"]).read_credentials() == {
        "identifier": "brand.bsky.social",
        "app_password": "n3w-one",
    }
    audit = a.get("/audit", params={"action": "channel."}).json()["events"]
    assert {e["action"] for e in audit} >= {"channel.created", "channel.credentials_replaced"}
    assert "n3w-one" not in str(audit)


def test_offboarding_through_the_api_revokes_the_members_tokens(world):
    a = world["a"]
    invited = a.post("/invitations", json={"email": "marc@example.com", "role": "admin"})
    assert invited.status_code == 201
    marc = get_user_model().objects.create_user(username="marc", password="long-enough-pw")
    member = {"id": accept_invitation(user=marc, code=invited.json()["code"]).pk}
    organisation = world["owner_a"].organisation
    _token, marc_token = create_api_token(
        actor=Actor.for_user(marc, organisation), name="marc's script", scopes=["items.view"]
    )
    marc_client = httpx.Client(base_url=world["base"], headers={"Authorization": f"Bearer {marc_token}"})
    assert marc_client.get("/items").status_code == 200
    report = a.delete(f"/members/{member['id']}")
    assert report.status_code == 200
    assert report.json()["api_tokens_revoked"] == 1
    assert marc_client.get("/items").status_code == 401
    assert a.get(f"/channels/{world['channel_a'].pk}").status_code == 200
    former = a.get("/members", params={"include_former": True}).json()
    assert any(m["username"] == "marc" and m["removed_at"] for m in former)


def test_session_auth_acts_in_the_members_organisation(world, live_server):
    organisation = world["owner_a"].organisation
    add_member(
        actor=Actor.palabre(organisation), username="nina", role=Role.MODERATOR, password="long-enough-pw"
    )
    browser = httpx.Client(base_url=live_server.url, follow_redirects=True)
    login_page = browser.get("/login/")
    assert login_page.status_code == 200
    browser.post(
        "/login/",
        data={
            "username": "nina",
            "password": "long-enough-pw",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": live_server.url + "/login/"},
    )
    me = browser.get("/api/organisation")
    assert me.status_code == 200
    assert me.json()["slug"] == organisation.slug
    assert "moderation.act" in me.json()["permissions"]
    assert browser.get("/api/members").status_code == 200
    assert browser.get("/api/tokens").status_code == 403
    other = browser.get("/api/channels", headers={"X-Palabre-Organisation": "beta"})
    assert other.status_code == 401


def test_item_list_query_count_does_not_grow_with_items(client, django_assert_max_num_queries, world):
    channel = world["channel_a"]
    world["a"].post(
        "/items/ingest", json={"channel_id": channel.pk, "items": [_item(f"q-{i}") for i in range(40)]}
    )
    _t, token = create_api_token(actor=world["owner_a"], name="count", scopes=["items.view"])
    with django_assert_max_num_queries(4):
        response = client.get("/api/items?limit=40", headers={"Authorization": f"Bearer {token}"})
    assert len(response.json()["items"]) == 40
