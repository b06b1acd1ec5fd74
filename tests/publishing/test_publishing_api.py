"""The publishing API over a real server on loopback (live_server + httpx): the whole workflow,
4xx answers that name the field, and isolation between organisations."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, create_api_token, create_channel, create_organisation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clock]


def _org(name: str):
    owner = get_user_model().objects.create_user(username=f"owner-{name}", password="pw-123456789")
    organisation = create_organisation(name=name, owner=owner)
    actor = Actor.for_user(owner, organisation)
    channel = create_channel(actor=actor, platform="x", handle=f"@{name}", name=f"{name} X")
    return organisation, actor, channel


@pytest.fixture
def world(live_server, x_publisher):
    org_a, owner_a, channel_a = _org("alpha")
    org_b, owner_b, channel_b = _org("beta")
    _t, token_a = create_api_token(actor=owner_a, name="A", scopes=[p.value for p in Perm])
    _t, token_b = create_api_token(actor=owner_b, name="B", scopes=[p.value for p in Perm])
    _t, token_w = create_api_token(actor=owner_a, name="writer", scopes=[Perm.POSTS_DRAFT.value])
    base = live_server.url + "/api"

    def client(token):
        return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    return {
        "a": client(token_a),
        "b": client(token_b),
        "writer": client(token_w),
        "channel_a": channel_a,
        "channel_b": channel_b,
    }


def test_check_endpoint_explains_and_names_spans(world):
    answer = world["a"].post(
        "/publishing/check",
        json={"text": "Soldes : -30 % sur nos canapés #IranElection", "channel": world["channel_a"].pk},
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["verdict"] == "block"
    finding = body["findings"][0]
    assert finding["guardrail"] == "sensitive_topic" and finding["span"] == [31, 44]
    assert (
        world["a"].post("/publishing/check", json={"text": "x", "channel": world["channel_b"].pk}).status_code
        == 404
    )
    assert world["a"].post("/publishing/check", json={}).json()["fields"] == {"text": ["Field required"]}


def test_draft_submit_approve_schedule_over_http(world):
    writer, approver = world["writer"], world["a"]
    at = (timezone.now() + timedelta(hours=2)).isoformat()
    created = writer.post(
        "/publishing/posts",
        json={
            "title": "Atelier",
            "variants": [
                {
                    "channel": world["channel_a"].pk,
                    "text": "VENEZ VISITER NOTRE ATELIER SAMEDI",
                    "scheduled_at": at,
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    post = created.json()
    variant = post["variants"][0]
    assert post["status"] == "draft" and variant["guardrail_verdict"] == "warn"
    assert variant["guardrail_findings"][0]["guardrail"] == "all_caps"

    fixed = writer.patch(
        f"/publishing/posts/{post['id']}",
        json={
            "variants": [
                {
                    "channel": world["channel_a"].pk,
                    "text": "Venez visiter notre atelier samedi !",
                    "scheduled_at": at,
                }
            ]
        },
    )
    assert fixed.json()["variants"][0]["guardrail_verdict"] == "pass"
    assert (
        writer.post(f"/publishing/posts/{post['id']}/comments", json={"text": "Corrigé"}).status_code == 201
    )
    assert writer.post(f"/publishing/posts/{post['id']}/submit").json()["status"] == "pending"
    assert writer.post(f"/publishing/posts/{post['id']}/approve", json={}).status_code == 403

    approved = approver.post(f"/publishing/posts/{post['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["variants"][0]["state"] == "scheduled"

    later = (timezone.now() + timedelta(hours=5)).isoformat()
    moved = approver.put(f"/publishing/variants/{variant['id']}/schedule", json={"scheduled_at": later})
    assert moved.status_code == 200 and moved.json()["state"] == "scheduled"
    window = {"start": timezone.now().isoformat(), "end": (timezone.now() + timedelta(days=1)).isoformat()}
    entries = approver.get("/publishing/schedule", params=window).json()
    assert [e["variant"] for e in entries] == [variant["id"]]
    listed = approver.get("/publishing/posts").json()
    assert [p["id"] for p in listed["posts"]] == [post["id"]] and listed["next_cursor"] is None


def test_bad_input_is_a_422_naming_the_field(world):
    a = world["a"]
    naive = a.post(
        "/publishing/posts",
        json={
            "title": "T",
            "variants": [
                {"channel": world["channel_a"].pk, "text": "x", "scheduled_at": "2030-01-01T10:00:00"}
            ],
        },
    )
    assert naive.status_code == 422 and "variants.0.scheduled_at" in naive.json()["fields"]
    foreign = a.post(
        "/publishing/posts",
        json={"title": "T", "variants": [{"channel": world["channel_b"].pk, "text": "x"}]},
    )
    assert foreign.status_code == 422 and "channel" in foreign.json()["fields"]
    missing = a.post("/publishing/posts", json={"title": "T"})
    assert missing.status_code == 422 and "variants" in missing.json()["fields"]
    post = a.post(
        "/publishing/posts",
        json={"title": "T", "variants": [{"channel": world["channel_a"].pk, "text": "Bonjour"}]},
    ).json()
    reject = a.post(f"/publishing/posts/{post['id']}/reject", json={"reason": ""})
    assert reject.status_code == 422 and "reason" in reject.json()["fields"]
    policy = a.patch("/publishing/policy", json={"promotion_share": 3})
    assert policy.status_code == 422 and "promotion_share" in policy.json()["fields"]


def test_organisations_never_see_each_other(world):
    a, b = world["a"], world["b"]
    post = a.post(
        "/publishing/posts",
        json={"title": "Secret", "variants": [{"channel": world["channel_a"].pk, "text": "Bientôt"}]},
    ).json()
    variant_id = post["variants"][0]["id"]
    assert b.get(f"/publishing/posts/{post['id']}").status_code == 404
    assert b.patch(f"/publishing/posts/{post['id']}", json={"title": "x"}).status_code == 404
    assert b.post(f"/publishing/posts/{post['id']}/approve", json={}).status_code == 404
    assert b.post(f"/publishing/posts/{post['id']}/comments", json={"text": "x"}).status_code == 404
    assert b.get(f"/publishing/variants/{variant_id}").status_code == 404
    assert (
        b.put(f"/publishing/variants/{variant_id}/schedule", json={"scheduled_at": None}).status_code == 404
    )
    assert b.get("/publishing/posts").json()["posts"] == []
    window = {"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}
    assert b.get("/publishing/schedule", params=window).json() == []
