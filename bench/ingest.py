"""The one pipeline's throughput: items stored and analysed per second, on the configured database.

    palabre bench ingest [--items 2000] [--batch 200] [--skip inbox,listening] [--json-out FILE]
    PALABRE_DATABASE_URL=postgres://.../throwaway taskset -c 1 palabre bench ingest

Needs a THROWAWAY database (migrated, filled, nothing cleaned up): PostgreSQL when
PALABRE_DATABASE_URL names one, else a fresh SQLite file in a temporary folder. Builds one
organisation with a site channel and a listening query, then feeds a realistic mix (comments,
replies in threads, direct messages, French and English, some spam and insults) through
`conversations.pipeline.ingest_items` and `analyse_items_or_each` (the stages in one transaction),
batch after batch, as a worker does.
Prints a JSON object (items/s stored, items/s stored and analysed, items per CPU-second, queries
and CPU time per item, per stage and in the garbage collector, the machine's load) and a
one-line summary with the CPU of each stage. Target of issue 15:
1,000 items/s stored and analysed on one core on PostgreSQL. On a shared machine the wall-clock
rate says how busy the others were: items per CPU-second (this process's CPU time, store and
analysis) is what one core does; pin the process (`taskset -c 1`) and read the load it reports.
On PostgreSQL it also reports the CPU of the server's backend that served it (from /proc, when the
server runs on this machine): the client waits while the server works, so client + backend CPU an
item under 1 ms is 1,000 items/s in wall time with a free core for each.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "support"))
from throwaway import refuse_a_database_in_use  # noqa: E402

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

FRENCH = [
    "Bonjour, ma commande n'est toujours pas arrivée, pouvez-vous m'aider ?",
    "Le canapé Oslo existe-t-il en vert ? Merci d'avance",
    "Livraison en retard de trois semaines, personne ne répond au service client, c'est honteux",
    "Super article, merci pour ces conseils de décoration !",
    "Espèce de c0nnaaard, vous êtes des voleurs",
    "J'adore ma nouvelle lampe, la qualité est au rendez-vous",
    "Quel est le délai de livraison pour la table en chêne ?",
]
ENGLISH = [
    "Where is my refund? I returned the chair two weeks ago.",
    "Great post, thanks for sharing! Check my shop www.cheap-watches.example.com",
    "Love the new collection, the colours are beautiful",
    "Your customer service is useless, nobody answers the phone",
    "Do you ship to Belgium? Thanks",
]
SPAM = [
    "Cheap watches!!! buy now http://spam.example/x",
    "Gagnez 1000 euros par jour depuis chez vous, cliquez ici http://argent-facile.example",
]


def setup_django() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palabre.settings")
    os.environ.setdefault("PALABRE_TASKS_BACKEND", "immediate")
    if not os.environ.get("PALABRE_DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="palabre-bench-ingest-")
        os.environ["PALABRE_DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    import django

    django.setup()
    from django.core.management import call_command

    refuse_a_database_in_use()
    call_command("migrate", interactive=False, verbosity=0)
    from django.db import connection

    return connection.vendor


def build():
    from django.contrib.auth import get_user_model

    from palabre.listening.services import create_query
    from palabre.orgs.services import Actor, create_channel, create_organisation

    suffix = f"{time.time_ns():x}"
    owner = get_user_model().objects.create_user(
        username=f"bench-ingest-{suffix}", password="bench-password-2024"
    )
    organisation = create_organisation(
        name=f"Bench ingest {suffix}", owner=owner, slug=f"bench-ingest-{suffix}"
    )
    actor = Actor.palabre(organisation)
    channel = create_channel(
        actor=actor, platform="site", handle=f"blog-{suffix}.example.fr", name="Blog", credentials=None
    )
    create_query(actor=actor, name="Livraison", query="livraison OR commande OR refund OR delivery")
    return channel


def mix(count: int, start: int, rng: random.Random, at: datetime, apart: float = 1.0) -> list:
    """Comments (60 %), replies in their threads (25 %), direct messages (10 %), spam (5 %);
    about two thirds French; 400 people, some writing several times; written `apart` seconds
    apart."""
    from palabre.conversations.services import IncomingAuthor, IncomingItem

    items = []
    for n in range(start, start + count):
        roll = rng.random()
        text = rng.choice(FRENCH if rng.random() < 0.65 else ENGLISH)
        kind, parent = "comment", ""
        if roll < 0.25 and n > start:
            kind, parent = "reply", f"c{rng.randrange(max(start - 200, 0), n)}"
        elif roll < 0.35:
            kind = "direct_message"
        elif roll < 0.40:
            text = rng.choice(SPAM)
        person = rng.randrange(400)
        items.append(
            IncomingItem(
                external_id=f"c{n}",
                kind=kind,
                text=f"{text} ({n})",
                created_at=at + timedelta(seconds=n * apart),
                author=IncomingAuthor(handle=f"person{person}", display_name=f"Person {person}"),
                parent_external_id=parent,
            )
        )
    return items


class Backend:
    """The CPU time (user + system) of the PostgreSQL backend serving `connection`, from
    /proc/<pid>/stat: readable when the server runs on this machine (as root or its user)."""

    def __init__(self, connection) -> None:
        self.pid = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]

    def cpu(self) -> float | None:
        if self.pid is None:
            return None
        try:
            with open(f"/proc/{self.pid}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        # Fields 14 and 15 of proc(5) (utime, stime), counted after the command's name.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def window_report(
    window: dict, done: int, cpu: dict, stage_cpu: dict, backend: float | None, queries: dict
) -> dict:
    """The CPU an item of the items stored since `window` was taken (its counters then), printed as
    it goes: a cost that grows with the table shows as a column growing from window to window."""
    count = done - window["done"]
    row = {
        "items_stored_before": window["done"],
        "items": count,
        "cpu_ms_per_item": {k: round(1000 * (v - window["cpu"][k]) / count, 3) for k, v in cpu.items()},
        "stage_cpu_ms_per_item": {
            k: round(1000 * (v - window["stages"].get(k, 0.0)) / count, 3) for k, v in stage_cpu.items()
        },
        "backend_cpu_ms_per_item": (
            None
            if backend is None or window["backend"] is None
            else round(1000 * (backend - window["backend"]) / count, 3)
        ),
        "queries_per_item": round((sum(queries.values()) - window["queries"]) / count, 2),
    }
    print(
        f"items {window['done']:>8}-{done:<8} client store {row['cpu_ms_per_item']['store']:.3f} "
        + " ".join(f"{k} {v:.3f}" for k, v in row["stage_cpu_ms_per_item"].items())
        + (
            f" backend {row['backend_cpu_ms_per_item']:.3f}"
            if row["backend_cpu_ms_per_item"] is not None
            else ""
        )
        + f" ms/item, {row['queries_per_item']} queries/item",
        file=sys.stderr,
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--skip", default="", help="stages left out, comma-separated (to see what the others cost)"
    )
    parser.add_argument(
        "--report-every",
        type=int,
        default=0,
        help="print the CPU an item of each window of this many items (does a cost grow with the table?)",
    )
    parser.add_argument(
        "--seconds-apart",
        type=float,
        default=1.0,
        help="between two items' dates (0.002: 500 a second, as a busy site; each author's hour fills up)",
    )
    parser.add_argument("--json-out", default="")
    args = parser.parse_args()

    vendor = setup_django()
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from palabre.conversations import pipeline
    from palabre.nlp.classifiers import load_models

    channel = build()
    load_models()  # loaded once per worker process, as in production
    rng = random.Random(args.seed)
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    wall = {"store": 0.0, "analyse": 0.0}
    cpu = {"store": 0.0, "analyse": 0.0}
    stage_cpu: dict[str, float] = {}
    queries = {"store": 0, "analyse": 0}

    def timed(stage: pipeline.Stage) -> pipeline.StageRun:
        def run(items, created):
            started = time.process_time()
            stage.run(items, created)
            stage_cpu[stage.name] = stage_cpu.get(stage.name, 0.0) + time.process_time() - started

        return run

    skipped = {name for name in args.skip.split(",") if name}
    measured = [
        pipeline.Stage(stage.name, stage.order, timed(stage))
        for stage in pipeline.stages()
        if stage.name not in skipped
    ]
    pipeline.stages = lambda: measured  # the bench's process only: each stage timed, the skipped left out
    # A first small batch warms the caches a worker keeps (policy, rules, models, the source row).
    warm = pipeline.ingest_items(channel=channel, incoming=mix(20, 10_000_000, rng, at), analyse=False)
    pipeline.analyse_items_or_each([i.pk for i, _c in warm.items], warm.created_ids)
    # As `palabre serve` and `palabre worker` do before their first request or task: what is loaded
    # for good (models, lexicons, Django) is kept out of the collector's sight, so that full
    # collections do not walk it, and the youngest generation is collected less often.
    from palabre.operations.serving import load_for_good

    load_for_good()
    stage_cpu.clear()
    collecting = {"cpu": 0.0, "started": 0.0}

    def collector(phase: str, _info: dict) -> None:  # the garbage collector's CPU time, part of the stages'
        if phase == "start":
            collecting["started"] = time.process_time()
        else:
            collecting["cpu"] += time.process_time() - collecting["started"]

    gc.callbacks.append(collector)
    backend = Backend(connection)
    backend_before = backend.cpu()
    done = 0
    windows: list[dict] = []
    window = {"done": 0, "cpu": dict(cpu), "stages": dict(stage_cpu), "backend": backend_before, "queries": 0}
    while done < args.items:
        size = min(args.batch, args.items - done)
        batch = mix(size, done, rng, at, args.seconds_apart)
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            wall0, cpu0 = time.perf_counter(), time.process_time()
            stored = pipeline.ingest_items(channel=channel, incoming=batch, analyse=False)
            wall1, cpu1 = time.perf_counter(), time.process_time()
            queries["store"] += len(captured)
            before = len(captured)
            # As the worker's `analyse_batch` task does: the stages in one transaction.
            pipeline.analyse_items_or_each([i.pk for i, _c in stored.items], stored.created_ids)
            wall2, cpu2 = time.perf_counter(), time.process_time()
            queries["analyse"] += len(captured) - before
        wall["store"] += wall1 - wall0
        wall["analyse"] += wall2 - wall1
        cpu["store"] += cpu1 - cpu0
        cpu["analyse"] += cpu2 - cpu1
        done += size
        if args.report_every and (done - window["done"] >= args.report_every or done == args.items):
            windows.append(window_report(window, done, cpu, stage_cpu, backend.cpu(), queries))
            window = {
                "done": done,
                "cpu": dict(cpu),
                "stages": dict(stage_cpu),
                "backend": backend.cpu(),
                "queries": sum(queries.values()),
            }

    backend_after = backend.cpu()
    backend_cpu = None if backend_before is None or backend_after is None else backend_after - backend_before
    total_wall = wall["store"] + wall["analyse"]
    total_cpu = cpu["store"] + cpu["analyse"]
    result = {
        "database": vendor,
        "items": done,
        "batch": args.batch,
        "stages": [stage.name for stage in pipeline.stages()],
        "stored_per_second": round(done / wall["store"], 1),
        "stored_and_analysed_per_second": round(done / total_wall, 1),
        # What one core does, whatever else the machine was doing: items per CPU-second of this
        # process (store and analysis; the database server's CPU is not counted).
        "stored_and_analysed_per_cpu_second": round(done / total_cpu, 1),
        "queries_per_item": {k: round(v / done, 2) for k, v in queries.items()},
        "cpu_ms_per_item": {k: round(1000 * v / done, 3) for k, v in cpu.items()},
        "stage_cpu_ms_per_item": {k: round(1000 * v / done, 3) for k, v in stage_cpu.items()},
        "gc_cpu_ms_per_item": round(1000 * collecting["cpu"] / done, 3),
        # The database server's process that served this connection (PostgreSQL's backend, read
        # from /proc when it runs on this machine; None on SQLite or a remote server): the client
        # waits while it works, so client + backend CPU an item is what one free core each takes.
        "backend_pid": backend.pid,
        "backend_cpu_ms_per_item": None if backend_cpu is None else round(1000 * backend_cpu / done, 3),
        "client_and_backend_cpu_ms_per_item": (
            None if backend_cpu is None else round(1000 * (total_cpu + backend_cpu) / done, 3)
        ),
        "wall_seconds": {k: round(v, 3) for k, v in wall.items()},
        "cpu_affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_before": load_before,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "cpus": os.cpu_count(),
        "target_items_per_second": 1000,
        "windows": windows,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    print(
        f"ingest ({vendor}): {result['stored_and_analysed_per_second']} items/s stored and analysed "
        f"({result['stored_per_second']} stored), "
        f"{result['stored_and_analysed_per_cpu_second']} items per CPU-second, "
        f"{result['queries_per_item']['store'] + result['queries_per_item']['analyse']:.2f} queries/item, "
        f"{result['cpu_ms_per_item']['store'] + result['cpu_ms_per_item']['analyse']:.2f} ms CPU/item "
        f"(store {result['cpu_ms_per_item']['store']:.2f}, "
        + ", ".join(f"{name} {ms:.2f}" for name, ms in result["stage_cpu_ms_per_item"].items())
        + "), "
        + (
            f"server backend {result['backend_cpu_ms_per_item']:.2f} ms CPU/item "
            f"(client + backend {result['client_and_backend_cpu_ms_per_item']:.2f}), "
            if backend_cpu is not None
            else ""
        )
        + f"batches of {args.batch}, load average {result['load_average'][0]:.2f}"
        f" on {result['cpus']} CPUs",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
