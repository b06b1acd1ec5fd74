"""Listening API over a real server on loopback (live_server) with httpx; organisations kept apart."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from palabre.connectors.search import Candidate
from palabre.listening.services import ingest_candidates
from palabre.orgs.permissions import Perm
from palabre.orgs.services import create_api_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(live_server, make_org, owner_of, actor_for):
    clients = {}
    for name in ("a", "b"):
        organisation = make_org(f"Maison {name.upper()}")
        actor = actor_for(owner_of(organisation), organisation)
        _token, raw = create_api_token(actor=actor, name="all", scopes=[p.value for p in Perm])
        clients[name] = httpx.Client(
            base_url=live_server.url + "/api", headers={"Authorization": f"Bearer {raw}"}, timeout=20
        )
        clients[f"org_{name}"] = organisation
    _token, raw = create_api_token(
        actor=actor_for(owner_of(clients["org_a"]), clients["org_a"]),
        name="read",
        scopes=[Perm.ITEMS_VIEW.value],
    )
    clients["reader"] = httpx.Client(
        base_url=live_server.url + "/api", headers={"Authorization": f"Bearer {raw}"}, timeout=20
    )
    yield clients
    for client in clients.values():
        if isinstance(client, httpx.Client):
            client.close()


def test_queries_crud_and_syntax_error_names_the_field(api):
    client = api["a"]
    bad = client.post("/listening/queries", json={"name": "Marque", "query": '"Maison Lumière" AND (lampe'})
    assert bad.status_code == 422
    assert "query" in bad.json()["fields"] and "22" in bad.json()["fields"]["query"][0]
    created = client.post(
        "/listening/queries", json={"name": "Marque", "query": '"Maison Lumière" OR #MaisonLumiere'}
    )
    assert created.status_code == 201
    query_id = created.json()["id"]
    assert (
        client.patch(f"/listening/queries/{query_id}", json={"kind": "competitor"}).json()["kind"]
        == "competitor"
    )
    assert (
        client.post("/listening/queries", json={"name": "x", "query": "y", "kind": "nope"}).status_code == 422
    )
    assert [q["name"] for q in client.get("/listening/queries").json()] == ["Marque"]
    assert api["b"].get("/listening/queries").json() == []
    assert api["b"].patch(f"/listening/queries/{query_id}", json={"active": False}).status_code == 404
    assert api["reader"].post("/listening/queries", json={"name": "z", "query": "z"}).status_code == 403
    assert client.delete(f"/listening/queries/{query_id}").status_code == 204


def test_sources_and_config_errors(api):
    client = api["a"]
    bad = client.post(
        "/listening/sources", json={"name": "Flux", "kind": "rss", "config": {"url": "pas une url"}}
    )
    assert bad.status_code == 422 and "config.url" in bad.json()["fields"]
    created = client.post(
        "/listening/sources",
        json={"name": "Flux", "kind": "rss", "config": {"url": "https://example.org/feed"}},
    )
    assert created.status_code == 201 and created.json()["health"] == "pending"
    source_id = created.json()["id"]
    assert (
        client.patch(f"/listening/sources/{source_id}", json={"active": False}).json()["health"] == "paused"
    )
    assert api["b"].delete(f"/listening/sources/{source_id}").status_code == 404


def test_mentions_with_filters_and_cursor_pagination(api):
    from palabre.listening.services import create_query, create_source
    from palabre.orgs.services import Actor

    organisation = api["org_a"]
    actor = Actor.palabre(organisation)
    query = create_query(actor=actor, name="Marque", query="lumiere")
    source = create_source(actor=actor, name="Flux", kind="rss", config={"url": "https://example.org/feed"})
    now = timezone.now()
    ingest_candidates(
        source=source,
        candidates=[
            Candidate(
                external_id=str(i), text=f"Maison Lumière numéro {i}", published_at=now - timedelta(minutes=i)
            )
            for i in range(7)
        ],
    )
    client = api["a"]
    first = client.get("/listening/mentions", params={"limit": 5, "query": query.pk}).json()
    assert len(first["items"]) == 5 and first["next_cursor"]
    assert first["items"][0]["matches"][0]["spans"] == [[7, 14]]
    second = client.get("/listening/mentions", params={"limit": 5, "cursor": first["next_cursor"]}).json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    ids = [m["id"] for m in first["items"] + second["items"]]
    assert len(set(ids)) == 7
    assert client.get("/listening/mentions", params={"cursor": "garbage"}).status_code == 422
    assert client.get("/listening/mentions", params={"sentiment": "furious"}).status_code == 422
    assert api["b"].get("/listening/mentions").json()["items"] == []
    dashboard = client.get("/listening/dashboard").json()
    assert dashboard["total"] == 7 and dashboard["share_of_voice"][0]["name"] == "Marque"


def test_crisis_mode_over_the_api(api):
    client = api["a"]
    assert client.get("/listening/crisis").json() == {
        "active": False,
        "id": None,
        "reason": "",
        "started_at": None,
        "started_by": "",
        "alert_id": None,
        "checklist": [],
    }
    on = client.post("/listening/crisis", json={"on": True, "reason": "Rappel"}).json()
    assert on["active"] and on["reason"] == "Rappel" and on["checklist"]
    assert api["b"].get("/listening/crisis").json()["active"] is False
    assert api["reader"].post("/listening/crisis", json={"on": False}).status_code == 403
    assert client.post("/listening/crisis", json={"on": False}).json()["active"] is False
    assert client.post("/listening/crisis", json={"on": "maybe"}).status_code == 422
