"""Running Palabre: the web server with its task workers, the database brought up to date, the
tasks run before the demo is served, and where the demo keeps its data."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def run_pending_tasks() -> None:
    """Run every task waiting in the database, then return (used by `palabre demo` before serving)."""
    from django.core.management import call_command

    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", verbosity=0
    )


def failed_task_count() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status="FAILED").count()


def allowed_hosts_hint(host: str) -> str:
    """What `palabre serve` says when it listens beyond this machine but answers only its local names."""
    if host in ("127.0.0.1", "localhost", "::1", "[::1]") or os.environ.get("PALABRE_ALLOWED_HOSTS"):
        return ""
    from django.conf import settings

    return (
        f"Note: only requests addressed to {', '.join(settings.ALLOWED_HOSTS)} are answered; "
        "from other machines every page is 400 Bad Request until PALABRE_ALLOWED_HOSTS names this server, "
        "e.g. PALABRE_ALLOWED_HOSTS=palabre.example.com,192.168.1.20"
    )


def default_processes() -> int:
    # One per CPU, up to 8: each thread of each process may hold a database connection.
    return min(max(1, os.cpu_count() or 1), 8)


def default_threads() -> int:
    # Enough for requests that wait on the database to overlap (and be scored in one batch),
    # not so many that they fight over the interpreter: twice the CPUs plus one, at most 8.
    return min(2 * (os.cpu_count() or 1) + 1, 8)


# The task workers `palabre serve` starts give way to the requests when the CPU is short: storing
# what an API call answered can wait a little, the caller cannot.
SERVE_WORKER_NICENESS = 10


# Objects allocated (less those freed) between two collections of the youngest generation: Python's
# 700 had the collector run every few dozen items of a batch (0.052 ms of CPU an item in bench
# ingest); at 50,000 it costs 0.017 ms, for a few megabytes more held between collections.
YOUNG_GENERATION_THRESHOLD = 50_000


def load_for_good() -> None:
    """Load the models, then put what is loaded out of the garbage collector's sight: it lives as
    long as the process, so it is neither walked by every full collection (about 0.15 ms of CPU an
    item in a worker, measured by bench ingest) nor copied into forked processes when the collector
    touches it. The youngest generation is collected less often (YOUNG_GENERATION_THRESHOLD)."""
    import gc

    from palabre.nlp.classifiers import load_models

    load_models()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])


def serve(host: str, port: int, *, processes: int, workers: int, threads: int, banner: str = "") -> None:
    """granian: `processes` server processes, forked once the models are loaded (they share that
    memory), each running requests in `threads` threads; and `workers` task worker processes."""

    from django.conf import settings
    from django.db import connections
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    import palabre.wsgi  # noqa: F401  (set up once, before the fork)

    load_for_good()
    connections.close_all()  # every process opens its own connections
    server = Granian(
        "palabre.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=max(1, processes),
        blocking_threads=max(1, threads),
        websockets=False,
        log_level=LogLevels.warning,
        respawn_failed_workers=True,
        workers_kill_timeout=20,
    )
    from palabre.worker import WorkerSupervisor

    # Started again when they exit (killed, crashed): accepted comments are stored by them.
    supervisor = WorkerSupervisor(
        {
            f"serve-{os.getpid()}-{n}": [
                sys.executable,
                "-m",
                "palabre",
                "worker",
                "--worker-id",
                f"serve-{os.getpid()}-{n}",
                "--nice",
                str(SERVE_WORKER_NICENESS),
            ]
            for n in range(max(0, workers))
        }
    )
    supervisor.start()
    print(
        f"Palabre is served at http://{host}:{port}/ ({processes} server process(es) of {threads} threads, "
        f"{len(supervisor.slots)} task worker(s))",
        flush=True,
    )
    if settings.DEBUG:
        print("Warning: PALABRE_DEBUG is on; never use it in production.", file=sys.stderr)
    hint = allowed_hosts_hint(host)
    if hint:
        print(hint, file=sys.stderr, flush=True)
    if banner:
        # Last, so that what a person needs (the demo's logins) is on screen once the server is up.
        print(banner, flush=True)
    try:
        server.serve()
    finally:
        supervisor.stop(timeout=20)


def demo_data_dir() -> Path:
    """Where `palabre demo` keeps its data folder (database, secret key, mails) by default."""
    from palabre import config

    return config.data_dir() / "demo"


def demo_environment(demo_dir: Path) -> dict[str, str]:
    """The environment that points a command at the demo's data folder and database."""
    return {
        "PALABRE_DATA_DIR": str(demo_dir),
        "PALABRE_DATABASE_URL": f"sqlite:///{demo_dir / 'palabre.sqlite3'}",
    }
