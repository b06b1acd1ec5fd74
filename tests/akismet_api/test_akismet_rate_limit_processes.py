"""The per-key limit holds exactly when several server processes, each with several threads, hammer
one key: never more than `PALABRE_AKISMET_RATE_LIMIT` requests accepted in a minute.

Real processes on a real database: a SQLite file of their own on SQLite, the test database on
PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from palabre.compat.models import SiteRequestCount

SETUP = """
import django
django.setup()
from django.contrib.auth import get_user_model
from palabre.moderation.services import create_moderation_site
from palabre.orgs.services import Actor, create_organisation
owner = get_user_model().objects.create_user(username="owner", password="Limit-tests-2024!")
organisation = create_organisation(name="Maison Limite", owner=owner)
site, _key = create_moderation_site(actor=Actor.palabre(organisation), name="Blog", url="https://blog.limite.example/")
print(site.pk)
"""
# One server process: for each (limit, minute) round, THREADS threads take requests for the key,
# each until one is refused; it starts a round when told to, and prints what it accepted.
HAMMER = """
import sys, threading
import django
django.setup()
from django.db import connection
from palabre.compat.akismet import limits
from palabre.moderation.models import ModerationSite

site_id, threads = int(sys.argv[1]), int(sys.argv[2])
ModerationSite.objects.get(pk=site_id)
connection.close()

def hammer(limit, now, accepted):
    mine = 0
    try:
        while limits.request_counter.take(site_id, limit, now=now) == 0:
            mine += 1
    finally:
        connection.close()
    accepted.append(mine)

print("ready", flush=True)
for line in sys.stdin:
    limit, now = int(line.split()[0]), float(line.split()[1])
    accepted = []
    running = [threading.Thread(target=hammer, args=(limit, now, accepted)) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    print(sum(accepted) if len(accepted) == threads else -1, flush=True)
"""
MINUTE_START = 1_800_000_000 // 60 * 60
# On PostgreSQL the processes read the test database: they must see what the test commits.
pytestmark = pytest.mark.django_db(transaction=True)


def _postgres_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}{port}/{db['NAME']}"


@pytest.fixture
def shared_database(request, tmp_path: Path):
    """(environment of the server processes, the site's id, a function reading its counts)."""
    env = {**os.environ, "PALABRE_DATA_DIR": str(tmp_path / "data")}
    if connection.vendor == "postgresql":
        from palabre.moderation.services import create_moderation_site
        from palabre.orgs.services import Actor

        organisation = request.getfixturevalue("make_org")("Maison Limite")
        site, _key = create_moderation_site(
            actor=Actor.palabre(organisation), name="Blog", url="https://blog.limite.example/"
        )
        env["PALABRE_DATABASE_URL"] = _postgres_url()

        def counts(site_id: int) -> dict[int, int]:
            return dict(SiteRequestCount.objects.filter(site_id=site_id).values_list("minute", "count"))

        return env, site.pk, counts
    import sqlite3

    database = request.getfixturevalue("migrated_sqlite")(tmp_path / "palabre.sqlite3")
    env["PALABRE_DATABASE_URL"] = f"sqlite:///{database}"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SETUP)], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]

    def counts(site_id: int) -> dict[int, int]:
        with sqlite3.connect(database, timeout=30) as db:
            table = SiteRequestCount._meta.db_table
            return dict(
                db.execute(f"SELECT minute, count FROM {table} WHERE site_id = ?", [site_id]).fetchall()
            )

    return env, int(done.stdout.strip().splitlines()[-1]), counts


PROCESSES, THREADS = 4, 4


def test_processes_and_threads_hammering_one_key_never_get_more_than_the_limit(shared_database):
    env, site_id, counts = shared_database
    running = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(HAMMER), str(site_id), str(THREADS)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for process in running:
            assert process.stdout.readline().strip() == "ready", process.stderr.read()[-3000:]
        # The default limit, then a small one; each round in its own minute.
        for limit, minute in ((600, MINUTE_START // 60), (37, MINUTE_START // 60 + 1)):
            for process in running:  # all start together
                process.stdin.write(f"{limit} {minute * 60 + 12.5}\n")
                process.stdin.flush()
            accepted = [int(process.stdout.readline()) for process in running]
            assert -1 not in accepted, "a thread of a server process failed"
            # Every thread went on until refused, so no process kept a token: exactly the limit.
            assert sum(accepted) == limit, (limit, accepted)
            assert counts(site_id)[minute] >= limit
    finally:
        for process in running:
            process.stdin.close()
            process.wait(timeout=60)
    assert [process.returncode for process in running] == [0] * PROCESSES
