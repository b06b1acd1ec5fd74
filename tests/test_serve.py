"""`palabre serve` as run in production: granian and a task worker beside it, on a file database.

A comment-check is answered at once, stored by the task worker a moment later, and SIGTERM stops
the server and its worker, leaving no process behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from django.db import connection

from palabre.compat.models import CheckedComment
from palabre.conversations.models import Item

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="uses its own SQLite file: once per suite is enough"
)

SITE_URL = "https://blog.serve.example/"
SETUP = f"""
import django
django.setup()
from django.contrib.auth import get_user_model
from palabre.moderation.services import create_moderation_site
from palabre.orgs.services import Actor, create_organisation
owner = get_user_model().objects.create_user(username="owner", password="Serve-tests-2024!")
organisation = create_organisation(name="Maison Serve", owner=owner)
site, key = create_moderation_site(actor=Actor.palabre(organisation), name="Blog", url={SITE_URL!r})
print(key)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(root: int) -> dict[int, str]:
    """Live processes below `root`, with their command lines (Linux /proc)."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
            commands[int(stat.parent.name)] = command
    found = {}
    for pid in parents:
        ancestor = parents[pid]
        while ancestor in parents and ancestor != root:
            ancestor = parents[ancestor]
        if ancestor == root:
            found[pid] = commands[pid]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_serve_answers_stores_through_its_worker_and_stops_cleanly(tmp_path: Path, migrated_sqlite):
    database = migrated_sqlite(tmp_path / "palabre.sqlite3")
    env = {
        **os.environ,
        "PALABRE_DATA_DIR": str(tmp_path / "data"),
        "PALABRE_DATABASE_URL": f"sqlite:///{database}",
        "PALABRE_TASKS_BACKEND": "database",
    }
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SETUP)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    key = done.stdout.strip().splitlines()[-1]
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "palabre", "serve", "--no-migrate", "--processes", "1"]
            + ["--threads", "2", "--workers", "1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: nothing of it outlives the test
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            assert server.poll() is None, log_path.read_text()[-3000:]
            try:
                return (
                    httpx.post(f"{base}/1.1/verify-key", data={"key": key, "blog": SITE_URL}).text == "valid"
                )
            except httpx.TransportError:
                return False

        _wait_for(up, 60, "palabre serve")
        answer = httpx.post(
            f"{base}/1.1/comment-check",
            data={
                "api_key": key,
                "blog": SITE_URL,
                "user_ip": "203.0.113.7",
                "comment_type": "comment",
                "comment_author": "Camille",
                "comment_author_email": "camille@example.org",
                "comment_content": "Merci pour la recette de la tarte, elle était parfaite !",
            },
        )
        assert answer.status_code == 200 and answer.text in {"true", "false"}
        assert answer.text == "false"
        assert answer.headers["Content-Length"] == "5"
        guid = answer.headers["X-akismet-guid"]

        def stored() -> bool:
            with sqlite3.connect(database, timeout=30) as db:
                items = db.execute(
                    f"SELECT COUNT(*) FROM {Item._meta.db_table} WHERE external_id = ?", [f"akismet-{guid}"]
                ).fetchone()[0]
                waiting = db.execute(f"SELECT COUNT(*) FROM {CheckedComment._meta.db_table}").fetchone()[0]
            return items == 1 and waiting == 0

        _wait_for(stored, 15, "the task worker storing the comment")

        processes = _descendants(server.pid)
        workers = [pid for pid, command in processes.items() if " worker " in f"{command} "]
        assert len(workers) == 1 and len(processes) >= 2, processes  # granian's process and the worker
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) is not None
        _wait_for(lambda: not any(_alive(pid) for pid in processes), 30, "every process of palabre serve")
    finally:
        with contextlib.suppress(ProcessLookupError):  # what is left of it when the test failed half-way
            os.killpg(server.pid, signal.SIGKILL)
        if server.poll() is None:
            server.wait(timeout=10)


def test_the_supervisor_starts_again_a_worker_that_exits_waiting_longer_while_it_keeps_dying(caplog):
    from palabre.worker import WorkerSupervisor, worker_states

    supervisor = WorkerSupervisor({"serve-test-0": [sys.executable, "-c", "import sys; sys.exit(3)"]})
    (slot,) = supervisor.slots
    start = time.time()
    supervisor.start(watch=False)  # checked by hand here, at chosen instants
    try:
        first = slot.process
        first.wait(timeout=30)
        with caplog.at_level("WARNING", logger="palabre.worker"):
            supervisor.check(now=start + 0.1)
            assert slot.process is None and slot.last_exit_code == 3
            assert "Task worker serve-test-0 exited (code 3); starting it again in 1 s" in caplog.text
            supervisor.check(now=start + 0.5)
            assert slot.process is None  # not before its wait is over
            supervisor.check(now=start + 1.2)
            assert slot.process is not None and slot.process.pid != first.pid and slot.restarts == 1
            assert "Task worker serve-test-0 started again" in caplog.text

            (mine,) = [s for s in worker_states(now=start + 1.2) if s.get("pid") == os.getpid()]
            assert mine["kind"] == "supervisor" and mine["stale"] is False
            assert mine["workers"] == [
                {
                    "worker_id": "serve-test-0",
                    "pid": slot.process.pid,
                    "running": True,
                    "restarts": 1,
                    "last_exit_code": 3,
                    "last_exit_at": start + 0.1,
                    "next_start_at": None,
                }
            ]
            # Dying again at once: it waits twice as long.
            slot.process.wait(timeout=30)
            supervisor.check(now=start + 1.3)
            assert slot.next_start_at == pytest.approx(start + 1.3 + 2)
            supervisor.check(now=start + 3.4)
            # A worker that ran a long while before it died is started again after one second.
            slot.process.wait(timeout=30)
            slot.started_at = start + 3.4 - 600
            supervisor.check(now=start + 3.5)
            assert slot.next_start_at == pytest.approx(start + 3.5 + 1) and slot.restarts == 2
    finally:
        supervisor.stop(timeout=10)
    assert not [s for s in worker_states() if s.get("pid") == os.getpid() and s["kind"] == "supervisor"]
