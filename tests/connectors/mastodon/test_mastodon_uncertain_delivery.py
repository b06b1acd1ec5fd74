"""A reply whose sending timed out after Mastodon created the status: before anything is sent
again, the status is looked for among the account's latest, so a server that ignores (or has
forgotten) the `Idempotency-Key` never shows the reply twice."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from platform_server import Answer, load_fixture

from palabre.connectors import services
from palabre.connectors.models import ActionStatus
from palabre.conversations.models import Item
from palabre.orgs.models import AuditEvent

FIXTURES = Path(__file__).parent / "fixtures"
STATUSES = "/api/v1/statuses"
VERIFY = "/api/v1/accounts/verify_credentials"
ACCOUNT_STATUSES = "/api/v1/accounts/14715/statuses"
QUESTION = "112186126728896492"
TEXT = "Bonjour Camille, votre colis part demain."


@pytest.fixture
def toots(org, make_channel, platform_server, monkeypatch):
    monkeypatch.setenv("PALABRE_CONNECTORS_HTTP_TIMEOUT", "0.5")
    return make_channel(
        org,
        "mastodon",
        handle="@maisondupont@mastodon.example",
        name="Maison Dupont sur Mastodon",
        credentials={"access_token": "secret-token", "api_base_url": platform_server.url},
    )


def _status(*, created_at=None, **changes) -> dict:
    status = load_fixture(FIXTURES, "status_created.json")
    when = (created_at or timezone.now()).astimezone(UTC)
    status["created_at"] = when.isoformat().replace("+00:00", "Z")
    return {**status, **changes}


def test_a_reply_that_timed_out_after_it_was_posted_is_found_and_never_posted_twice(
    toots, platform_server, owner_actor, ingest
):
    question = ingest(toots, QUESTION, author="camille@piaille.fr")
    posted = _status()
    # The server creates the status, then answers too late for the client; it ignores the
    # Idempotency-Key, so a second POST would create a second status.
    platform_server.on("POST", STATUSES, Answer(body=posted, delay=1.5))
    platform_server.on("GET", VERIFY, Answer(body=load_fixture(FIXTURES, "verify_credentials.json")))
    platform_server.on("GET", ACCOUNT_STATUSES, Answer(body=[posted]))
    action = services.queue_reply(actor=owner_actor, item=question, text=TEXT)

    assert services.deliver(action.pk).outcome == "sent"
    assert services.deliver(action.pk).outcome == "skipped:sent"

    assert len(platform_server.made("POST", STATUSES)) == 1
    assert len(platform_server.made("GET", ACCOUNT_STATUSES)) == 1
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT and action.attempts == 1
    assert action.external_id == "112186300000000009"
    assert action.url == "https://mastodon.example/@maisondupont/112186300000000009"
    assert Item.objects.get(channel=toots, external_id="112186300000000009").parent == question
    entry = AuditEvent.objects.filter(action="outbound.reply_sent").latest("pk")
    assert entry.after["found_after_interruption"] is True


def test_a_reply_not_found_after_a_timeout_is_sent_again_and_an_older_twin_is_not_taken_for_it(
    toots, platform_server, owner_actor, ingest
):
    question = ingest(toots, QUESTION, author="camille@piaille.fr")
    # The same words, said to the same status the day before: not this action's status.
    twin = _status(id="112186200000000001", created_at=timezone.now() - timedelta(days=1))
    platform_server.on("POST", STATUSES, Answer(body={"error": "late"}, delay=1.5), Answer(body=_status()))
    platform_server.on("GET", VERIFY, Answer(body=load_fixture(FIXTURES, "verify_credentials.json")))
    platform_server.on("GET", ACCOUNT_STATUSES, Answer(body=[twin]))
    action = services.queue_reply(actor=owner_actor, item=question, text=TEXT)

    assert services.deliver(action.pk).outcome == "retry"
    services.OutboundAction.objects.filter(pk=action.pk).update(next_attempt_at=action.created_at)
    assert services.deliver(action.pk).outcome == "sent"

    posts = platform_server.made("POST", STATUSES)
    assert [p.headers["Idempotency-Key"] for p in posts] == [action.idempotency_key] * 2
    action.refresh_from_db()
    assert action.external_id == "112186300000000009"


def test_a_server_that_cannot_be_searched_falls_back_on_the_idempotency_key(
    toots, platform_server, owner_actor, ingest
):
    question = ingest(toots, QUESTION, author="camille@piaille.fr")
    platform_server.on("POST", STATUSES, Answer(body={"error": "late"}, delay=1.5), Answer(body=_status()))
    # No account statuses on this server (404): the retry goes out with the same key.
    action = services.queue_reply(actor=owner_actor, item=question, text=TEXT)
    assert services.deliver(action.pk).outcome == "retry"
    services.OutboundAction.objects.filter(pk=action.pk).update(next_attempt_at=action.created_at)
    assert services.deliver(action.pk).outcome == "sent"
    posts = platform_server.made("POST", STATUSES)
    assert [p.headers["Idempotency-Key"] for p in posts] == [action.idempotency_key] * 2
