"""The fault test: a burst of 1,000 comments through the Akismet-compatible API of a real
`palabre serve`, its task worker killed with SIGKILL mid-burst; the supervisor starts it again, and
every comment answered for is stored once and analysed once.

Runs on the suite's database: its own SQLite file on SQLite, the test database on PostgreSQL
(scripts/test.sh runs the suite on both).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from palabre.compat.models import CheckedComment
from palabre.conversations.models import Item
from palabre.inbox.models import Conversation
from palabre.moderation.models import ModerationDecision

COMMENTS = 1000
KILL_AFTER = 300  # answered comments before the worker is killed, once it has stored some
SITE_URL = "https://blog.fault.example/"
SETUP = f"""
import django
django.setup()
from django.contrib.auth import get_user_model
from palabre.moderation.services import create_moderation_site
from palabre.orgs.services import Actor, create_organisation
owner = get_user_model().objects.create_user(username="owner", password="Fault-tests-2024!")
organisation = create_organisation(name="Maison Panne", owner=owner)
site, key = create_moderation_site(actor=Actor.palabre(organisation), name="Blog", url={SITE_URL!r})
print(key)
"""
TEXTS = [
    "Merci pour la recette de la tarte aux pommes numéro {n}, toute la famille a adoré !",
    "Thank you for recipe {n}, the apple pie was delicious and my children loved it.",
    "Bonjour, ma commande {n} n'est toujours pas arrivée, pouvez-vous m'aider s'il vous plaît ?",
    "I ordered the blue lamp {n} days ago and I am still waiting for any news about it.",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> dict[int, str]:
    """Direct children of `pid` (any of its threads started them), with their command lines."""
    found = {}
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            for child in children.read_text().split():
                with contextlib.suppress(OSError):
                    command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                    found[int(child)] = command
    return found


def _worker_pids(server: subprocess.Popen) -> list[int]:
    return [pid for pid, command in _children(server.pid).items() if " worker " in command]


def _wait_for(condition, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{log.read_text()[-4000:]}")


def _postgres_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}{port}/{db['NAME']}"


@pytest.fixture
def served_database(request, tmp_path: Path):
    """(environment for palabre serve, Akismet key, a function running SQL on that database)."""
    env = {
        **os.environ,
        "PALABRE_DATA_DIR": str(tmp_path / "data"),
        "PALABRE_TASKS_BACKEND": "database",
        "PALABRE_AKISMET_RATE_LIMIT": "0",  # the burst is one key's
        "PALABRE_ANALYSIS_SWEEP_SECONDS": "3",
        "PALABRE_WORKER_HEARTBEAT_SECONDS": "0.5",
    }
    if connection.vendor == "postgresql":
        from palabre.moderation.services import create_moderation_site
        from palabre.orgs.services import Actor

        organisation = request.getfixturevalue("make_org")("Maison Panne")
        _site, key = create_moderation_site(actor=Actor.palabre(organisation), name="Blog", url=SITE_URL)
        env["PALABRE_DATABASE_URL"] = _postgres_url()

        def query(sql: str) -> list[tuple]:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()

        return env, key, query
    database = request.getfixturevalue("migrated_sqlite")(tmp_path / "palabre.sqlite3")
    env["PALABRE_DATABASE_URL"] = f"sqlite:///{database}"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SETUP)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]

    def query(sql: str) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(database, timeout=30)) as db:
            return db.execute(sql).fetchall()

    return env, done.stdout.strip().splitlines()[-1], query


@pytest.mark.django_db(transaction=True)  # on PostgreSQL, the server sees what the test commits
def test_a_worker_killed_mid_burst_loses_nothing_and_analyses_each_comment_once(served_database, tmp_path):
    env, key, query = served_database
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "palabre", "serve", "--no-migrate", "--processes", "1"]
            + ["--threads", "4", "--workers", "1", "--port", str(port)],
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

        _wait_for(up, 120, "palabre serve", log_path)
        _wait_for(lambda: len(_worker_pids(server)) == 1, 30, "its task worker", log_path)
        (first_worker,) = _worker_pids(server)

        answered: list[tuple[int, str]] = []
        lock = threading.Lock()
        killed = threading.Event()

        def check(n: int, client: httpx.Client) -> None:
            answer = client.post(
                f"{base}/1.1/comment-check",
                data={
                    "api_key": key,
                    "blog": SITE_URL,
                    "user_ip": f"198.51.100.{n % 250 + 1}",
                    "comment_type": "comment",
                    "comment_author": f"Lecteur {n}",
                    "comment_author_email": f"lecteur{n}@example.org",
                    "comment_content": TEXTS[n % len(TEXTS)].format(n=n),
                },
            )
            assert answer.status_code == 200 and answer.text in {"true", "false"}, answer.text
            with lock:
                answered.append((n, answer.headers["X-akismet-guid"]))

        def sender(numbers: range) -> None:
            with httpx.Client(timeout=60) as client:
                for n in numbers:
                    check(n, client)

        items, checked = Item._meta.db_table, CheckedComment._meta.db_table
        akismet = f"{items}.external_id LIKE 'akismet-%'"
        running = f"SELECT COUNT(*) FROM {DBTaskResult._meta.db_table} WHERE status = 'RUNNING'"
        left_running: list[int] = []

        def killer() -> None:
            # Mid-burst, once the worker is storing (and analysing) batches: a storing task is
            # running, and items may be stored without their analysis yet.
            try:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    # A task running: between two tasks the worker leaves nothing to take back.
                    if (
                        len(answered) >= KILL_AFTER
                        and query(f"SELECT COUNT(*) FROM {items} WHERE {akismet}")[0][0]
                        and query(running)[0][0]
                    ):
                        os.kill(first_worker, signal.SIGKILL)
                        killed.set()
                        # What it left running, as it is now that nothing of it runs: the check
                        # above raced with the end of its task.
                        left_running.append(query(running)[0][0])
                        return
                    time.sleep(0.05)
            finally:
                connection.close()  # this thread's own, on PostgreSQL

        threads = 6
        with ThreadPoolExecutor(threads + 1) as pool:
            kill = pool.submit(killer)
            for future in [pool.submit(sender, range(t, COMMENTS, threads)) for t in range(threads)]:
                future.result()
            kill.result()
        assert killed.is_set() and len(answered) == COMMENTS
        guids = {guid for _n, guid in answered}
        assert len(guids) == COMMENTS  # 1,000 different comments

        # The supervisor said so, and started a new worker.
        _wait_for(
            lambda: [pid for pid in _worker_pids(server) if pid != first_worker], 60, "a new worker", log_path
        )
        # The supervisor logs the restart just after it launched the process the line above saw.
        _wait_for(lambda: "started again" in log_path.read_text(), 10, "the restart logged", log_path)
        assert "exited (code -9)" in log_path.read_text()
        # The storing task it was running is taken back by the new worker.
        if left_running[0]:
            _wait_for(lambda: "made ready again" in log_path.read_text(), 60, "the task taken back", log_path)

        def restart_in_state() -> dict | None:
            # Written (atomically) at the end of the supervisor's look that logged the restart.
            (state_file,) = (tmp_path / "data" / "workers").glob("supervisor-*.json")
            state = json.loads(state_file.read_text())
            return state if state["workers"][0]["restarts"] == 1 else None

        state = _wait_for(restart_in_state, 10, "the restart in the supervisor's state", log_path)
        assert state["workers"][0]["last_exit_code"] == -9

        def all_done() -> bool:
            assert server.poll() is None, log_path.read_text()[-3000:]
            ((waiting,),) = query(f"SELECT COUNT(*) FROM {checked}")
            ((unanalysed,),) = query(f"SELECT COUNT(*) FROM {items} WHERE {akismet} AND analysed_at IS NULL")
            ((stored,),) = query(f"SELECT COUNT(*) FROM {items} WHERE {akismet}")
            return waiting == 0 and unanalysed == 0 and stored >= COMMENTS

        # Generous: the worker runs at a lower CPU priority, and a busy machine starves it.
        _wait_for(all_done, 300, "every comment stored and analysed", log_path)

        # Stored exactly once: each answered guid is one item, and there is nothing else.
        stored = [row[0] for row in query(f"SELECT external_id FROM {items} WHERE {akismet}")]
        assert sorted(stored) == sorted(f"akismet-{guid}" for guid in guids)
        # Analysed exactly once: one decision each (the one answered), at most one inbox thread.
        decisions = ModerationDecision._meta.db_table
        per_item = query(
            f"SELECT {items}.id, COUNT({decisions}.id) FROM {items} LEFT JOIN {decisions} "
            f"ON {decisions}.item_id = {items}.id WHERE {akismet} GROUP BY {items}.id"
        )
        assert len(per_item) == COMMENTS and {count for _id, count in per_item} == {1}
        conversations = Conversation._meta.db_table
        threads_per_root = query(
            f"SELECT root_id, COUNT(*) FROM {conversations} GROUP BY root_id HAVING COUNT(*) > 1"
        )
        assert threads_per_root == []
        ((in_inbox,),) = query(
            f"SELECT COUNT(*) FROM {conversations} JOIN {items} ON {items}.id = root_id WHERE {akismet}"
        )
        assert in_inbox > 0  # the analysis did reach the inbox
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
