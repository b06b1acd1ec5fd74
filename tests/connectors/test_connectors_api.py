"""The connectors API over a real HTTP server on loopback: health, outbox, retry, reply; one
organisation never sees or touches another's."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from palabre.connectors import services
from palabre.connectors.base import PermanentError
from palabre.connectors.models import ActionStatus, OutboundAction
from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, create_api_token, create_channel, create_organisation

pytestmark = pytest.mark.django_db(transaction=True)


def _org(name: str):
    owner = get_user_model().objects.create_user(username=f"owner-{name}", password="pw-123456789")
    organisation = create_organisation(name=name, owner=owner)
    actor = Actor.for_user(owner, organisation)
    channel = create_channel(
        actor=actor, platform="discourse", handle=f"forum.{name}.fr", name=f"Forum {name}"
    )
    item, _ = ingest_item(
        channel=channel,
        incoming=IncomingItem(
            external_id=f"{name}-1",
            kind="comment",
            text="Où en est ma commande ?",
            created_at=timezone.now(),
            author=IncomingAuthor(handle="camille"),
        ),
    )
    return organisation, actor, channel, item


@pytest.fixture
def world(live_server, counting):
    org_a, owner_a, channel_a, item_a = _org("alpha")
    org_b, owner_b, channel_b, item_b = _org("beta")
    _t, token_a = create_api_token(actor=owner_a, name="A", scopes=[p.value for p in Perm])
    _t, token_b = create_api_token(actor=owner_b, name="B", scopes=[p.value for p in Perm])
    _t, token_read = create_api_token(actor=owner_a, name="read", scopes=[Perm.CHANNELS_VIEW.value])
    base = live_server.url + "/api"
    return {
        "a": httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token_a}"}, timeout=20),
        "b": httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token_b}"}, timeout=20),
        "read": httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token_read}"}, timeout=20),
        "owner_a": owner_a,
        "channel_a": channel_a,
        "item_a": item_a,
        "item_b": item_b,
    }


def test_reply_then_outbox_then_retry(world, counting):
    # Tasks run at once in these tests: the delivery happens as soon as the reply is committed.
    counting.script = [PermanentError("Topic closed")]
    answer = world["a"].post(
        f"/connectors/items/{world['item_a'].pk}/reply",
        json={"text": "Bonjour Camille !", "idempotency_key": "r-1"},
    )
    assert answer.status_code == 202
    action = answer.json()
    assert action["idempotency_key"] == "r-1"
    again = world["a"].post(
        f"/connectors/items/{world['item_a'].pk}/reply",
        json={"text": "Bonjour Camille !", "idempotency_key": "r-1"},
    )
    assert again.json()["id"] == action["id"]
    assert [c[0] for c in counting.calls] == ["reply"]
    listed = world["a"].get("/connectors/outbox", params={"status": "failed"}).json()
    assert [a["id"] for a in listed["items"]] == [action["id"]]
    assert listed["items"][0]["last_error"] == "Topic closed"
    retried = world["a"].post(f"/connectors/outbox/{action['id']}/retry")
    assert retried.status_code == 200
    assert world["a"].get(f"/connectors/outbox/{action['id']}").json()["status"] == "sent"
    refused = world["a"].post(f"/connectors/outbox/{action['id']}/retry")
    assert refused.status_code == 422 and "status" in refused.json()["fields"]


def test_channel_health(world, counting):
    rows = world["a"].get("/connectors/channels").json()
    assert [r["name"] for r in rows] == ["Forum alpha"]
    assert rows[0]["state"] == "unknown" and "reply" in rows[0]["capabilities"]
    one = world["a"].get(f"/connectors/channels/{world['channel_a'].pk}").json()
    assert one["waiting"] == {}
    assert world["a"].post(f"/connectors/channels/{world['channel_a'].pk}/pull").status_code == 202


def test_bad_input_names_the_field(world):
    answer = world["a"].post(f"/connectors/items/{world['item_a'].pk}/reply", json={"text": ""})
    assert answer.status_code == 422 and "text" in str(answer.json())
    answer = world["a"].get("/connectors/outbox", params={"status": "lost"})
    assert answer.status_code == 422 and "status" in str(answer.json())
    answer = world["a"].get("/connectors/outbox", params={"cursor": "not-a-cursor"})
    assert answer.status_code == 422 and "cursor" in str(answer.json())


def test_scopes(world):
    assert world["read"].get("/connectors/channels").status_code == 200
    answer = world["read"].post(f"/connectors/items/{world['item_a'].pk}/reply", json={"text": "Bonjour"})
    assert answer.status_code == 403


def test_isolation(world):
    action = services.queue_reply(actor=world["owner_a"], item=world["item_a"], text="Bonjour")
    b = world["b"]
    assert b.get(f"/connectors/outbox/{action.pk}").status_code == 404
    assert b.post(f"/connectors/outbox/{action.pk}/retry").status_code == 404
    assert b.post(f"/connectors/outbox/{action.pk}/cancel").status_code == 404
    assert b.get(f"/connectors/channels/{world['channel_a'].pk}").status_code == 404
    assert b.post(f"/connectors/channels/{world['channel_a'].pk}/pull").status_code == 404
    assert b.post(f"/connectors/items/{world['item_a'].pk}/reply", json={"text": "x"}).status_code == 404
    assert b.get("/connectors/outbox").json()["items"] == []
    assert [r["name"] for r in b.get("/connectors/channels").json()] == ["Forum beta"]
    assert OutboundAction.objects.get(pk=action.pk).status == ActionStatus.SENT  # B cancelled nothing


def test_pull_now_is_not_a_loop(world, counting, clock):
    """Each "pull now" queued a task: a script could fill the queue every organisation shares. A
    channel is pulled at most once a minute however it is asked (422 naming the channel and the wait),
    and a pull already waiting for a worker is not queued again."""
    from palabre.connectors.models import ChannelSync

    url = f"/connectors/channels/{world['channel_a'].pk}/pull"
    assert world["a"].post(url).status_code == 202  # pulled at once (tasks run at once here)
    pulls = len(counting.calls)
    again = world["a"].post(url)
    assert again.status_code == 422 and "channel" in again.json()["fields"]
    (said,) = again.json()["fields"]["channel"]
    assert 0 < int(re.search(r"\d+", said).group()) <= 60  # the seconds to wait, in either language
    assert len(counting.calls) == pulls
    clock.shift(timedelta(minutes=2))
    # Due already (the schedule's next pull has come): the worker's round takes it, nothing queued.
    ChannelSync.objects.filter(channel=world["channel_a"]).update(next_poll_at=timezone.now())
    assert world["a"].post(url).status_code == 202
    assert len(counting.calls) == pulls
    # Not due: queued, and pulled at once here.
    ChannelSync.objects.filter(channel=world["channel_a"]).update(
        next_poll_at=timezone.now() + timedelta(hours=1)
    )
    assert world["a"].post(url).status_code == 202
    assert len(counting.calls) > pulls
