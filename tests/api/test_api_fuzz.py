"""Reliability suite, the API: schemathesis generates requests from /api/openapi.json, valid and
invalid, and sends them with an organisation token (every scope) to a real server on loopback.

Whatever it sends, the API never answers a 5xx, and every answer it documents matches its schema
(body and content type). The examples are few per operation (about 900 requests in all) and
derandomised: the run is bounded (a minute and a half on two cores) and the same on every run.
Findings so far: ids and moments beyond what the databases store, centuries-long mention periods,
links with a broken host, site rules that name no site (see test_api_errors.py).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from palabre.connectors import outbound
from palabre.orgs.permissions import Perm
from palabre.orgs.services import create_api_token

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


class Caller:
    """The organisation's token, and a new one should a generated request revoke it (DELETE /tokens/1)."""

    def __init__(self, actor):
        self.actor = actor
        self.statuses: Counter[int] = Counter()
        self.renew()

    def renew(self) -> None:
        _token, plaintext = create_api_token(
            actor=self.actor, name="schemathesis", scopes=[p.value for p in Perm]
        )
        self.headers = {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def offline(monkeypatch):
    """The run creates feeds, sources, webhooks and channels at addresses it makes up, and the tasks
    run at once: the install must fetch none of them from the internet. Every outbound connection
    goes through the address guard's resolver; here no name or address resolves, as without network."""

    def no_network(host: str, port: int) -> list[str]:
        raise httpx.ConnectError(f"{host}: no network during the API fuzz run")

    monkeypatch.setattr(outbound, "resolve", no_network)


@pytest.fixture
def caller(owner_actor, channel, ingest, settings, offline):
    # Invalid credentials are part of what is generated: counted as key guesses, they would soon
    # have loopback refused (429) for everything else. The throttle has tests of its own.
    settings.KEY_GUESS_LIMIT = 0
    # Something to list, page and point at: items in a thread, on the organisation's site channel.
    root = ingest(channel, "fuzz-1", text="Bonjour, le canapé Oslo existe-t-il en vert ?")
    ingest(channel, "fuzz-2", text="Merci pour votre réponse rapide !", parent=root.external_id)
    ingest(
        channel,
        "fuzz-3",
        text="Livraison en retard, très déçue.",
        created_at=datetime(2024, 5, 7, tzinfo=UTC),
    )
    return Caller(owner_actor)


def _fuzz(operation, mode: GenerationMode, caller: Caller, base_url: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def send(case):
        response = case.call(base_url=base_url, headers=caller.headers)
        if response.status_code == 401:
            caller.renew()
            response = case.call(base_url=base_url, headers=caller.headers)
        caller.statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=caller.headers)

    send()


def test_the_api_never_fails_nor_breaks_its_schema(live_server, caller):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json")
    failures: dict[str, str] = {}
    operations = 0
    durations: dict[str, float] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        started = time.perf_counter()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, caller, live_server.url)
            # Every operation is tried, all findings reported at the end (schemathesis raises a group).
            except (Exception, BaseExceptionGroup) as failure:
                failures[f"{operation.label} ({mode.value})"] = str(failure)[:2000]
        durations[operation.label] = time.perf_counter() - started
    slowest = sorted(durations.items(), key=lambda pair: -pair[1])[:5]
    print("slowest:", ", ".join(f"{label} {seconds:.1f}s" for label, seconds in slowest))
    print(f"{operations} operations, answers by status: {dict(sorted(caller.statuses.items()))}")
    assert operations > 50 and sum(caller.statuses.values()) > operations * 4
    assert failures == {}, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
