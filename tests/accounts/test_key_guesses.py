"""Unknown keys on the machine APIs: after the limit, the guessing address is refused for a while,
in each protocol's own shape, while other addresses and valid keys elsewhere go on."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from palabre.cli import main as palabre
from palabre.moderation.services import create_moderation_site
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, create_api_token

ATTACKER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"
BLOG = "https://blog.maison-dupont.fr/"


@pytest.fixture
def frozen():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def site_key(org):
    _site, key = create_moderation_site(actor=Actor.palabre(org), name="Blog", url=BLOG)
    return key


@pytest.fixture
def api_token(org, owner):
    _token, value = create_api_token(
        actor=Actor.for_user(owner, org), name="CRM", scopes=[p.value for p in Perm]
    )
    return value


def verify(client, key: str, address: str):
    return client.post("/1.1/verify-key", {"key": key, "blog": BLOG}, REMOTE_ADDR=address)


def analyze(client, key: str, address: str):
    body = {"comment": {"text": "Bonjour"}, "requestedAttributes": {"TOXICITY": {}}}
    return client.post(
        f"/v1alpha1/comments:analyze?key={key}",
        json.dumps(body),
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def organisation(client, token: str, address: str):
    return client.get("/api/organisation", HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR=address)


def test_akismet_key_guesses_are_refused_after_the_limit_until_the_cool_off(client, site_key, frozen):
    limit = settings.KEY_GUESS_LIMIT
    assert limit == 20
    for attempt in range(limit):
        answer = verify(client, f"guess{attempt:012d}", ATTACKER)
        assert answer.content == b"invalid"

    refused = verify(client, site_key, ATTACKER)  # even the right key: guessing must not go on
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("text/plain")
    assert int(refused["Retry-After"]) == settings.KEY_GUESS_COOLOFF_SECONDS
    assert "Too many unknown API keys" in refused["X-akismet-debug-help"]

    assert verify(client, site_key, NEIGHBOUR).content == b"valid"

    frozen.shift(timedelta(seconds=settings.KEY_GUESS_COOLOFF_SECONDS - 10))
    assert int(verify(client, site_key, ATTACKER)["Retry-After"]) == 10
    frozen.shift(timedelta(seconds=11))
    assert verify(client, site_key, ATTACKER).content == b"valid"


def test_valid_keys_are_never_counted(client, site_key, frozen):
    for _ in range(settings.KEY_GUESS_LIMIT * 2):
        assert verify(client, site_key, ATTACKER).content == b"valid"


def test_perspective_key_guesses_get_googles_quota_error(client, site_key, frozen):
    for attempt in range(settings.KEY_GUESS_LIMIT):
        answer = analyze(client, f"guess-{attempt}", ATTACKER)
        assert answer.status_code == 400
        assert answer.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"

    refused = analyze(client, site_key, ATTACKER)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert error["details"][0]["retryDelay"] == f"{settings.KEY_GUESS_COOLOFF_SECONDS}s"
    assert refused["Retry-After"] == str(settings.KEY_GUESS_COOLOFF_SECONDS)
    assert analyze(client, site_key, NEIGHBOUR).status_code == 200


def test_api_token_guesses_get_a_json_429(client, api_token, frozen):
    for attempt in range(settings.KEY_GUESS_LIMIT):
        answer = organisation(client, f"plb_guess{attempt}_secret", ATTACKER)
        assert answer.status_code == 401

    refused = organisation(client, api_token, ATTACKER)
    assert refused.status_code == 429
    assert refused.json()["error"] == "throttled"
    assert refused["Retry-After"] == str(settings.KEY_GUESS_COOLOFF_SECONDS)
    assert organisation(client, api_token, NEIGHBOUR).status_code == 200


def test_guesses_on_one_protocol_count_for_all(client, site_key, api_token, frozen):
    half = settings.KEY_GUESS_LIMIT // 2
    for attempt in range(half):
        verify(client, f"guess{attempt:012d}", ATTACKER)
    for attempt in range(settings.KEY_GUESS_LIMIT - half):
        organisation(client, f"plb_guess{attempt}_secret", ATTACKER)
    assert analyze(client, site_key, ATTACKER).status_code == 429


def test_palabre_unlock_lifts_an_address_block(client, site_key, frozen, capsys):
    for attempt in range(settings.KEY_GUESS_LIMIT):
        verify(client, f"guess{attempt:012d}", ATTACKER)
    assert verify(client, site_key, ATTACKER).status_code == 429

    palabre(["unlock", "--address", ATTACKER])
    assert "API keys unblocked" in capsys.readouterr().out
    assert verify(client, site_key, ATTACKER).content == b"valid"


def test_no_limit_when_the_setting_is_zero(client, site_key, frozen, settings):
    settings.KEY_GUESS_LIMIT = 0
    for attempt in range(30):
        verify(client, f"guess{attempt:012d}", ATTACKER)
    assert verify(client, site_key, ATTACKER).content == b"valid"


def test_an_ipv6_guesser_is_counted_by_its_64_prefix(client, site_key, frozen):
    for attempt in range(settings.KEY_GUESS_LIMIT):
        verify(client, f"guess{attempt:012d}", f"2001:db8:1:2::{attempt + 1:x}")
    assert verify(client, site_key, "2001:db8:1:2:ffff::9").status_code == 429
    assert verify(client, site_key, "2001:db8:1:3::1").content == b"valid"

    palabre(["unlock", "--address", "2001:db8:1:2::abc"])
    assert verify(client, site_key, "2001:db8:1:2:ffff::9").content == b"valid"


def test_a_block_written_by_another_process_is_seen(client, site_key, frozen):
    from palabre.orgs import throttle

    assert verify(client, site_key, ATTACKER).content == b"valid"
    # Another web process reached the limit: it wrote the block in the shared files, where a
    # separate `palabre` process finds it too.
    _count_key, until_key = throttle._keys(ATTACKER)
    caches["throttle"].set(until_key, time.time() + 600, timeout=600)
    # The second this process keeps what it read has passed: only that read is dropped (emptying the
    # whole `recent` cache would flush a shared Redis, and the block with it).
    throttle._recent_blocks.forget(throttle._guesser(ATTACKER))
    assert verify(client, site_key, ATTACKER).status_code == 429


def test_failures_are_forgotten_a_cool_off_after_the_last_one(client, site_key, frozen):
    limit = settings.KEY_GUESS_LIMIT
    for attempt in range(limit - 1):
        verify(client, f"guess{attempt:012d}", ATTACKER)
        frozen.shift(timedelta(seconds=30))
    frozen.shift(timedelta(seconds=settings.KEY_GUESS_COOLOFF_SECONDS))
    verify(client, "one-more-guess-0000", ATTACKER)  # counts as the first again
    assert verify(client, site_key, ATTACKER).content == b"valid"


def test_failures_close_together_add_up_over_the_cache_default_timeout(client, site_key, frozen):
    for attempt in range(settings.KEY_GUESS_LIMIT):
        verify(client, f"guess{attempt:012d}", ATTACKER)
        # Further apart than the cache's default timeout (300 s), closer than the cool-off.
        frozen.shift(timedelta(seconds=400))
    assert verify(client, site_key, ATTACKER).status_code == 429


def test_palabre_unlock_refuses_what_is_not_an_address(db):
    with pytest.raises(SystemExit) as exit_:
        palabre(["unlock", "--address", "not-an-address"])
    assert "is not an IP address" in str(exit_.value.code)
