"""State that several processes and machines must share lives on Redis (PALABRE_REDIS_URL): the
unknown-key counts and blocks hold across processes that share no data folder, as two machines do.
Each test runs real Python processes with Palabre's settings, as `palabre serve` would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache.backends.redis import RedisCache

ATTACKER = "203.0.113.7"

# One "machine": Palabre's settings over its own data folder, sending unknown keys from ATTACKER.
CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    import django
    django.setup()
    from django.test import RequestFactory
    from palabre.orgs import throttle

    mode, go, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    request = RequestFactory().post("/1.1/verify-key", REMOTE_ADDR=os.environ["ATTACKER"])
    Path(f"{go}.ready.{os.getpid()}").touch()
    while not go.exists():  # every process starts at once, once all have started
        time.sleep(0.005)
    if mode == "fail":
        waits = [throttle.key_guess_failed(request) for _ in range(count)]
        print(json.dumps({"blocked_by": sum(1 for wait in waits if wait)}))
    else:
        print(json.dumps({"wait": throttle.key_guess_wait(request)}))
    """
)


def machine_env(tmp_path: Path, name: str, *, redis_url: str | None, limit: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="palabre.settings",
        PALABRE_DATA_DIR=str(tmp_path / name),
        PALABRE_KEY_FAILURE_LIMIT=str(limit),
        PALABRE_TASKS_BACKEND="immediate",
        ATTACKER=ATTACKER,
    )
    env.pop("PALABRE_REDIS_URL", None)
    if redis_url:
        env["PALABRE_REDIS_URL"] = redis_url
    return env


def run_machines(tmp_path: Path, machines: list[tuple[str, str, int]], *, redis_url, limit) -> list[dict]:
    go = tmp_path / f"go-{uuid.uuid4().hex}"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, mode, str(go), str(count)],
            env=machine_env(tmp_path, name, redis_url=redis_url, limit=limit),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, mode, count in machines
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob(f"{go.name}.ready.*"))) < len(processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.fixture
def redis_db(redis_url):
    """A Redis database of its own for one test (Django's `clear` empties a whole database)."""
    url = (
        f"{redis_url.rsplit('/', 1)[0]}/{8 + int(os.environ.get('PYTEST_XDIST_WORKER', 'gw0')[2:] or 0) % 8}"
    )
    throttle_cache = RedisCache(url, {"KEY_PREFIX": "palabre-throttle"})
    throttle_cache.clear()
    yield url, throttle_cache
    throttle_cache.clear()


def test_failures_sent_to_two_machines_at_once_are_all_counted(tmp_path, redis_db):
    url, shared = redis_db
    results = run_machines(tmp_path, [("a", "fail", 2000), ("b", "fail", 2000)], redis_url=url, limit=100_000)
    assert results == [{"blocked_by": 0}, {"blocked_by": 0}]
    # Atomic increments: not one of the 4,000 failures lost between the two processes.
    assert shared.get(f"palabre:key-guesses:count:{ATTACKER}") == 4000


def test_an_address_blocked_through_one_machine_is_refused_by_the_other(tmp_path, redis_db):
    url, _shared = redis_db
    limit = 30
    # Two machines share the guessing: 15 each reach the limit together, and exactly one failure
    # (the 30th, wherever it landed) sets the block.
    results = run_machines(tmp_path, [("a", "fail", 15), ("b", "fail", 15)], redis_url=url, limit=limit)
    assert sum(result["blocked_by"] for result in results) == 1
    (third,) = run_machines(tmp_path, [("c", "wait", 0)], redis_url=url, limit=limit)
    assert third["wait"] > 0


def test_without_redis_each_machine_counts_on_its_own(tmp_path):
    """What PALABRE_REDIS_URL is for: without it, the count is in each data folder's files."""
    limit = 30
    results = run_machines(tmp_path, [("a", "fail", 15), ("b", "fail", 15)], redis_url=None, limit=limit)
    assert results == [{"blocked_by": 0}, {"blocked_by": 0}]
    (third,) = run_machines(tmp_path, [("a", "wait", 0)], redis_url=None, limit=limit)
    assert third["wait"] == 0


def test_readyz_fails_while_redis_does_not_answer(client, db, settings, redis_db, tmp_path):
    url, _shared = redis_db
    redis_caches = {
        alias: {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        for alias in ("default", "throttle")
    }
    settings.CACHES = redis_caches
    assert client.get("/readyz").json()["checks"]["cache"] == {"ok": True}

    closed = _closed_port_url()
    settings.CACHES = {alias: {**cache, "LOCATION": closed} for alias, cache in redis_caches.items()}
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["cache"] == {"ok": False, "failing": ["default", "throttle"]}


def _closed_port_url() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"
