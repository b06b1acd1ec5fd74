"""A post scheduled through the API is published exactly once by real `palabre worker` processes,
even when they are killed with SIGKILL around its publication time: on SQLite and on PostgreSQL.

Everything runs in subprocesses on a database of their own: `palabre serve` answers the API,
workers come and go, and a test platform notes every call it receives in a file.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from django.utils import timezone

HARNESS = Path(__file__).resolve().parent / "kill_harness.py"
CONNECTOR_TESTS = Path(__file__).resolve().parent.parent / "connectors"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class World:
    def __init__(self, tmp_path: Path, database_url: str, *, migrated: bool = False):
        self.migrated = migrated  # the database has its tables already (a copy of `migrated_sqlite`)
        self.calls = tmp_path / "calls.log"
        self.logs = tmp_path
        self.env = {
            **os.environ,
            "PALABRE_DATABASE_URL": database_url,
            "PALABRE_TASKS_BACKEND": "database",
            "PALABRE_DATA_DIR": str(tmp_path / "data"),
            "PALABRE_TEST_CALLS": str(self.calls),
            "PALABRE_TEST_PUBLISH_SLEEP": "3",
            "PALABRE_PUBLISHING_CHECK_SECONDS": "1",
            "PALABRE_PUBLISHING_TICK_SECONDS": "2",
            "PALABRE_CONNECTORS_LEASE_SECONDS": "2",
            "PALABRE_CONNECTORS_MIN_INTERVAL": "0",
            "PALABRE_CONNECTORS_RETRY_BASE_SECONDS": "1",
        }
        self.processes: list[subprocess.Popen] = []

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(HARNESS), *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115  (closed with the process)
        process = subprocess.Popen(
            [sys.executable, str(HARNESS), "palabre", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def worker(self, name: str) -> subprocess.Popen:
        return self.start(name, "worker", "--interval", "0.2", "--worker-id", name)

    def calls_made(self) -> list[str]:
        if not self.calls.exists():
            return []
        return [line.split("\t")[0] for line in self.calls.read_text().splitlines()]

    def stop_all(self) -> None:
        # SIGTERM: gunicorn's master then stops its own processes.
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text()[-3000:] if path.exists() else ""


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


TEXTS = [
    "Visite de l'atelier samedi à 10 h : venez voir naître nos lampes.",
    "Merci pour vos photos de salons ! Voici les cinq qui nous ont le plus touchés.",
]


def start_world(world: World) -> tuple[dict, httpx.Client]:
    if not world.migrated:
        world.run("palabre", "migrate")
    setup = json.loads(world.run("setup").strip().splitlines()[-1])
    port = _free_port()
    world.start(
        "serve",
        "serve",
        "--no-migrate",
        "--workers",
        "0",
        "--processes",
        "1",
        "--port",
        str(port),
        "--threads",
        "2",
    )
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api",
        headers={"Authorization": f"Bearer {setup['token']}"},
        timeout=30,
    )

    def up():
        try:
            return api.get("/publishing/posts").status_code == 200
        except httpx.TransportError:
            return False

    wait_for(up, 60, "palabre serve")
    return setup, api


def schedule(api: httpx.Client, channel: int, text: str, at) -> int:
    created = api.post(
        "/publishing/posts",
        json={
            "title": text[:40],
            "variants": [{"channel": channel, "text": text, "scheduled_at": at.isoformat()}],
        },
    )
    assert created.status_code == 201, created.text
    approved = api.post(f"/publishing/posts/{created.json()['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    assert approved.json()["variants"][0]["state"] == "scheduled"
    return approved.json()["variants"][0]["id"]


def scenario(world: World) -> None:
    setup, api = start_world(world)
    start = timezone.now()
    variants = [
        schedule(api, setup["channel"], TEXTS[n], start + timedelta(seconds=delay))
        for n, delay in enumerate((6, 11))
    ]

    # The first worker is killed while the platform is receiving the first post.
    first = world.worker("w1")
    wait_for(lambda: len(world.calls_made()) >= 1, 40, "the first call")
    kill(first)
    # The second one is killed a moment before the second post's time.
    second = world.worker("w2")
    wait_for(lambda: timezone.now() >= start + timedelta(seconds=10.5), 30, "just before the second post")
    kill(second)
    # Two workers then finish the job side by side.
    world.worker("w3")
    world.worker("w4")

    def settled():
        states = [api.get(f"/publishing/variants/{v}").json() for v in variants]
        return states if all(s["delivery_status"] == "sent" for s in states) else None

    try:
        states = wait_for(settled, 90, "both posts delivered")
    except AssertionError:
        states = [api.get(f"/publishing/variants/{v}").json() for v in variants]
        raise AssertionError(f"{states}\ncalls: {world.calls_made()}") from None
    keys = Counter(world.calls_made())
    assert keys == {f"post-variant-{v}": 1 for v in variants}, keys
    assert all(s["external_url"].startswith("https://forum.example/t/post-variant-") for s in states)
    # Nothing more happens afterwards: the follow-up checks find everything settled.
    time.sleep(3)
    assert Counter(world.calls_made()) == keys


@pytest.mark.own_sqlite
def test_exactly_once_on_sqlite(tmp_path, migrated_sqlite):
    world = World(tmp_path, f"sqlite:///{migrated_sqlite(tmp_path / 'kill.sqlite3')}", migrated=True)
    try:
        scenario(world)
    finally:
        world.stop_all()


@pytest.mark.postgres
def test_exactly_once_on_postgresql(tmp_path):
    import psycopg

    base = os.environ["PALABRE_TEST_POSTGRES_URL"]
    name = f"palabre_kill_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(base)
    world = World(tmp_path, urlunsplit(parts._replace(path=f"/{name}")))
    try:
        scenario(world)
    finally:
        world.stop_all()
        with psycopg.connect(base, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.own_sqlite
def test_end_to_end_through_mastodon_on_loopback(tmp_path, migrated_sqlite):
    """The real Mastodon connector (Mastodon.py) against a loopback server answering with the
    documented payloads: the worker is killed just before the time, another one publishes."""
    sys.path.insert(0, str(CONNECTOR_TESTS))
    from platform_server import Answer, PlatformServer, load_fixture

    mastodon = PlatformServer().start()
    created = load_fixture(CONNECTOR_TESTS / "mastodon" / "fixtures", "status_created.json")
    mastodon.on("POST", "/api/v1/statuses", Answer(body=created))
    world = World(tmp_path, f"sqlite:///{migrated_sqlite(tmp_path / 'mastodon.sqlite3')}", migrated=True)
    world.env["PALABRE_TEST_MASTODON_URL"] = mastodon.url
    world.env["PALABRE_OUTBOUND_ALLOWED_HOSTS"] = "127.0.0.1"  # the fake Mastodon, on loopback
    try:
        setup, api = start_world(world)
        at = timezone.now() + timedelta(seconds=5)
        variant = schedule(
            api,
            setup["mastodon"],
            "Notre atelier ouvre ses portes samedi : venez voir naître nos lampes.",
            at,
        )
        first = world.worker("m1")
        wait_for(lambda: timezone.now() >= at - timedelta(seconds=0.3), 30, "just before the time")
        kill(first)
        world.worker("m2")
        state = wait_for(
            lambda: (
                (v := api.get(f"/publishing/variants/{variant}").json())["delivery_status"] == "sent" and v
            ),
            60,
            "the toot",
        )
        time.sleep(2)
        posts = mastodon.made("POST", "/api/v1/statuses")
        assert len(posts) == 1
        assert posts[0].headers["Idempotency-Key"] == f"post-variant-{variant}"
        assert posts[0].form()["status"] == [
            "Notre atelier ouvre ses portes samedi : venez voir naître nos lampes."
        ]
        assert state["external_url"] == created["url"]
    finally:
        world.stop_all()
        mastodon.stop()
