"""Akismet-compatible API throughput: comment-check over loopback against the production server.

    palabre bench api [--requests 5000 | --seconds S] [--concurrency 16] [--rate R] [--processes N]
                      [--threads 8] [--workers 1] [--database-url URL] [--sample-every 5] [--json-out FILE]

Starts `palabre serve` (gunicorn: one process per CPU by default, and a task worker) on a fresh
SQLite database in a temporary folder, or on an empty PostgreSQL database given by
--database-url, registers an organisation and a site, then fires comment-check requests over
keep-alive connections from a pool of threads and stops. Every request is a new comment: it is
decided with the organisation's rules and what moderators taught, answered, and stored (item and
decision) by the task worker; the per-key rate limit is on (set high enough never to refuse).
After the burst it waits until every comment answered is stored, and reports how long that took
and what it cost (the task worker's CPU, and the local PostgreSQL server's when there is one; the
CPU a request of each web process and each task worker apart too).
What it calls stored is counted in the database: the site channel's items that carry a moderation
decision (and, apart, those analysed), never the answers. Every --sample-every seconds it notes
the comments answered, stored and analysed so far and the journal rows waiting, so the backlog
over time is printed too: storing keeps up when the backlog stays bounded (the storing rate is at
least the answering rate). Target of issue 15: --rate 500 for 10 minutes (--seconds 600) with a
bounded backlog.
The load generator writes pre-encoded requests on raw sockets so that it takes as little of the
machine's CPU as possible from the server it measures. Prints a JSON object and a one-line
summary. Target: >= 500 requests/s and p99 < 50 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import httpx

SAMPLES = [
    "Bonjour, le canapé Oslo existe-t-il en vert ? Merci d'avance",
    "Livraison en retard de trois semaines, personne ne répond au service client, c'est honteux",
    "Super article, merci ! https://mon-site-pas-cher.example.fr",
    "Espèce de c0nnaaard, vous êtes des voleurs",
    "Great post, thanks for sharing! Check my shop www.cheap-watches.example.com",
    "Je participe ! @marie @julien #concoursMaisonLumiere",
    "J'ai testé la recette ce week-end, la pâte était parfaite, merci pour les explications.",
    "Buy cheap viagra online now!!! Best price http://cheap-pills.example.xyz",
]
SITE_URL = "https://blog.bench.example/"
SUPPORT = str(Path(__file__).resolve().parent / "support")  # throwaway.py: the database guard
SETUP = """
import secrets
import django
django.setup()
from throwaway import refuse_a_database_in_use
refuse_a_database_in_use()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.contrib.auth import get_user_model
from palabre.moderation.services import create_moderation_site
from palabre.orgs.services import Actor, create_organisation
suffix = secrets.token_hex(4)
owner = get_user_model().objects.create_user(username=f"bench-api-{suffix}", password="bench-password-2024")
organisation = create_organisation(name="Maison Bench", owner=owner, slug=f"bench-api-{suffix}")
site, key = create_moderation_site(actor=Actor.palabre(organisation), name="Blog", url=%r)
print(key, site.channel_id)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base: str, key: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server stopped (exit code {server.returncode})")
        try:
            if httpx.post(f"{base}/1.1/verify-key", data={"key": key, "blog": SITE_URL}).text == "valid":
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    sys.exit("the server did not answer in time")


def process_tree_cpu_seconds(root: int) -> dict[int, float]:
    """CPU seconds (user + system) of a process and all its descendants, per pid, read from /proc
    (Linux). Task workers' pids are negated, to tell them from the web server's processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float, bool]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        cpu = (int(fields[11]) + int(fields[12])) / ticks
        stats[int(stat.parent.name)] = (int(fields[1]), cpu, b"worker" in command)
    found: dict[int, float] = {}
    for pid, (_parent, cpu, task_worker) in stats.items():
        ancestor = pid
        while ancestor in stats and ancestor != root:
            ancestor = stats[ancestor][0]
        if ancestor == root:
            found[-pid if task_worker else pid] = cpu
    return found


def _postmaster(env: dict[str, str]) -> int | None:
    """The pid of the PostgreSQL server holding the bench's database, when it runs on this machine
    (the parent of a backend): its processes alone are counted, not every PostgreSQL server here."""
    url = env["PALABRE_DATABASE_URL"]
    if not url.startswith(("postgres://", "postgresql://")):
        return None
    import psycopg

    try:
        with psycopg.connect(url) as db:
            backend = db.execute("SELECT pg_backend_pid()").fetchone()[0]
        return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, psycopg.Error, ValueError):
        return None


def database_cpu_seconds(postmaster: int | None = None) -> dict[int, float]:
    """CPU seconds of the local PostgreSQL server's processes, per pid (none when there is no server
    here): those of `postmaster` and its children when given, else every PostgreSQL process of the
    machine. Compare two readings with `cpu_since`."""
    ticks = os.sysconf("SC_CLK_TCK")
    total: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()
        if postmaster is not None and postmaster not in {int(stat.parent.name), int(fields[1])}:
            continue
        if name in {"postgres", "postmaster"}:
            total[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return total


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """The CPU seconds the processes of `after` used since `before`: a process that ended in between
    (an autovacuum worker, a short connection) is left out rather than subtracted."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _count(env: dict[str, str], query: str, params: tuple = ()) -> tuple:
    url = env["PALABRE_DATABASE_URL"]
    if url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30) as db:
            return db.execute(query.replace("%s", "?"), params).fetchone()
    import psycopg

    with psycopg.connect(url) as db:
        return db.execute(query, params).fetchone()


def waiting_to_store(env: dict[str, str]) -> int:
    """Checked comments the task worker has not stored yet."""
    return _count(env, "SELECT COUNT(*) FROM moderation_checkedcomment WHERE error = ''")[0]


def stored_in_database(env: dict[str, str], channel_id: int) -> tuple[int, int]:
    """The site channel's items stored with a moderation decision, and those analysed, counted
    in the database."""
    return _count(
        env,
        "SELECT COUNT(*), COUNT(i.analysed_at) FROM conversations_item i WHERE i.channel_id = %s "
        "AND EXISTS (SELECT 1 FROM moderation_moderationdecision d WHERE d.item_id = i.id)",
        (channel_id,),
    )


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))]


class KeepAliveClient:
    """One HTTP/1.1 connection that writes requests as bytes and reads just what it needs."""

    def __init__(self, port: int):
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""

    def post(self, path: str, body: bytes) -> tuple[int, str]:
        request = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nUser-Agent: palabre-bench/1.0\r\n\r\n"
        ).encode() + body
        for attempt in range(2):
            if self.sock is None:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.buffer = b""
            try:
                self.sock.sendall(request)
                return self._read()
            except (ConnectionError, TimeoutError, ValueError):
                self.close()  # the server closed an idle connection: open a new one
                if attempt:
                    raise
        raise ConnectionError("unreachable")

    def _read(self) -> tuple[int, str]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int(headers.get("Content-Length") or headers.get("content-length") or 0)
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if (headers.get("Connection") or headers.get("connection") or "").lower() == "close":
            self.close()
        return status, body.decode("utf-8", "replace")

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buffer += chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument(
        "--seconds", type=float, default=0, help="with --rate: send for this long (requests = rate x seconds)"
    )
    parser.add_argument(
        "--sample-every", type=float, default=5, help="seconds between two samples of the backlog"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="connections (and client threads)")
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="send this many requests a second, each at its time (open loop), and measure the "
        "latency at that load; default: as fast as the server answers on --concurrency connections",
    )
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="web server processes")
    parser.add_argument("--threads", type=int, default=8, help="threads of each web server process")
    parser.add_argument("--workers", type=int, default=1, help="task workers started beside the server")
    parser.add_argument(
        "--database-url",
        default="",
        help="an empty PostgreSQL database (default: SQLite in a temporary folder)",
    )
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument(
        "--endpoint",
        choices=["comment-check", "verify-key"],
        default="comment-check",
        help="verify-key measures the stack alone (key, rate limit), with no storage",
    )
    parser.add_argument(
        "--store-timeout", type=float, default=600, help="seconds to wait for the storing to catch up"
    )
    parser.add_argument("--json-out", default="")
    args = parser.parse_args()
    if args.seconds:
        if not args.rate:
            parser.error("--seconds needs --rate")
        args.requests = int(args.rate * args.seconds)

    folder = Path(tempfile.mkdtemp(prefix="palabre-bench-api-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "palabre.settings",
        "PALABRE_DATA_DIR": str(folder),
        "PALABRE_DATABASE_URL": args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
        "PALABRE_AKISMET_RATE_LIMIT": "1000000",
        "PALABRE_TASKS_BACKEND": "database",
    }
    setup = subprocess.run(
        [sys.executable, "-c", SETUP % SITE_URL],
        env={**env, "PYTHONPATH": os.pathsep.join(filter(None, [SUPPORT, os.environ.get("PYTHONPATH")]))},
        capture_output=True,
        text=True,
    )
    if setup.returncode:
        sys.exit(
            setup.stderr.strip().splitlines()[-1] if setup.stderr.strip() else "the bench's setup failed"
        )
    key, channel_id = setup.stdout.split()
    channel_id = int(channel_id)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "palabre",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--processes",
            str(args.processes),
            "--threads",
            str(args.threads),
            "--workers",
            str(args.workers),
            "--no-migrate",
        ],
        env=env,
        # A file, not a pipe: the server's warnings would fill a pipe nobody reads and stall it.
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def wait_until_stored(env: dict[str, str], timeout: float) -> float:
        started = time.perf_counter()
        while waiting_to_store(env) and time.perf_counter() - started < timeout:
            if server.poll() is not None:
                sys.exit(f"the server stopped (exit code {server.returncode})")
            time.sleep(0.2)
        return time.perf_counter() - started

    local = threading.local()
    clients: list[KeepAliveClient] = []
    lock = threading.Lock()

    def client() -> KeepAliveClient:
        if not hasattr(local, "client"):
            local.client = KeepAliveClient(port)
            with lock:
                clients.append(local.client)
        return local.client

    def body(number: int) -> bytes:
        if args.endpoint == "verify-key":
            return urlencode({"key": key, "blog": SITE_URL}).encode()
        return urlencode(
            {
                "api_key": key,
                "blog": SITE_URL,
                "user_ip": f"198.51.100.{number % 250}",
                "user_agent": "Mozilla/5.0 (bench)",
                "comment_type": "comment",
                "comment_author": f"Lecteur {number % 400}",
                "comment_author_email": f"lecteur{number % 400}@example.org",
                "permalink": f"{SITE_URL}articles/{number % 50}",
                "comment_content": f"{SAMPLES[number % len(SAMPLES)]} (#{number})",
            }
        ).encode()

    path = f"/1.1/{args.endpoint}"

    schedule = {"start": 0.0}

    def check(payload: bytes, number: int | None = None) -> tuple[float, int, str]:
        start = time.perf_counter()
        if args.rate and number is not None:
            # Open loop: each request has its time; it counts from then, so a request that waited
            # for a free connection counts its wait too (no coordinated omission).
            due = schedule["start"] + number / args.rate
            if due > start:
                time.sleep(due - start)
            start = due
        try:
            status, text = client().post(path, payload)
        except (OSError, ValueError) as error:
            status, text = 0, type(error).__name__
        return (time.perf_counter() - start) * 1000, status, text

    answered = [0]  # comments answered since the burst started (a list: the threads add to it)

    def measured(number: int) -> tuple[float, int, str]:
        outcome = check(body(number), number)
        if outcome[1] == 200:
            with lock:
                answered[0] += 1
        return outcome

    baseline = {"stored": 0, "analysed": 0}
    samples: list[dict] = []
    sampling = threading.Event()

    def sample() -> dict:
        stored, analysed = stored_in_database(env, channel_id)
        return {
            "t": round(time.perf_counter() - schedule["start"], 1),
            "answered": answered[0],
            "stored": stored - baseline["stored"],
            "analysed": analysed - baseline["analysed"],
            "waiting": waiting_to_store(env),
        }

    def sampler() -> None:
        while not sampling.wait(args.sample_every):
            samples.append(sample())

    try:
        wait_until_up(base, key, server)
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            # Warm up every server thread's connections; let the task worker store those comments;
            # then warm up again briefly (the pause let the server's threads go idle).
            list(pool.map(check, [body(n) for n in range(-args.warmup - 200, -200)]))
            wait_until_stored(env, timeout=120 if args.workers else 0)
            list(pool.map(check, [body(n) for n in range(-200, 0)]))
            wait_until_stored(env, timeout=120 if args.workers else 0)
            # The warm-up's comments analysed too, so that the counts start from a settled base.
            settle = time.perf_counter() + (60 if args.workers else 0)
            while len(set(stored_in_database(env, channel_id))) > 1 and time.perf_counter() < settle:
                time.sleep(0.2)
            baseline["stored"], baseline["analysed"] = stored_in_database(env, channel_id)
            server_cpu_before = process_tree_cpu_seconds(server.pid)
            postmaster = _postmaster(env)
            database_cpu_before = database_cpu_seconds(postmaster)
            client_cpu_before = time.process_time()
            # A paced run's schedule starts a moment ahead, so its first requests are not late; an
            # unpaced one starts now (its rate was understated by those 50 ms: negative on a tiny run).
            started = schedule["start"] = time.perf_counter() + (0.05 if args.rate else 0.0)
            watcher = threading.Thread(target=sampler, daemon=True)
            watcher.start()
            results: list[tuple[float, int, str]] = []
            # In slices, so that a long run does not hold a future per request in memory.
            for first in range(0, args.requests, 10_000):
                results += pool.map(measured, range(first, min(first + 10_000, args.requests)))
            seconds = time.perf_counter() - started
            client_cpu = time.process_time() - client_cpu_before
            server_cpu_after = process_tree_cpu_seconds(server.pid)
            database_cpu = cpu_since(database_cpu_before, database_cpu_seconds(postmaster))
            at_burst_end = sample()
            # Then the task worker catches up: every comment answered is stored.
            left_after_burst = waiting_to_store(env)
            storing_seconds = wait_until_stored(env, timeout=args.store_timeout)
            left_unstored = waiting_to_store(env)
            sampling.set()
            watcher.join()
            at_end = sample()
            stored_cpu_after = process_tree_cpu_seconds(server.pid)
            database_cpu_all = cpu_since(database_cpu_before, database_cpu_seconds(postmaster))
            spent = {pid: cpu - server_cpu_before.get(pid, 0.0) for pid, cpu in server_cpu_after.items()}
            server_cpu = sum(cpu for pid, cpu in spent.items() if pid > 0)
            task_cpu = sum(
                cpu - server_cpu_before.get(pid, 0.0) for pid, cpu in stored_cpu_after.items() if pid < 0
            )
            # Each process on its own (the web processes during the burst; the task workers during
            # the burst and the catch-up), busiest first.
            per_web_process = sorted((cpu for pid, cpu in spent.items() if pid > 0), reverse=True)
            per_task_worker = sorted(
                (cpu - server_cpu_before.get(pid, 0.0) for pid, cpu in stored_cpu_after.items() if pid < 0),
                reverse=True,
            )
    finally:
        for each in clients:
            each.close()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)

    latencies = sorted(ms for ms, status, _body in results if status == 200)
    errors = [(status, body[:80]) for _ms, status, body in results if status != 200]
    answers = [body for _ms, status, body in results if status == 200]
    # The backlog (answered, not stored yet) grows by this many comments a second in the second
    # half of the burst: about 0 when storing keeps up (least squares over the samples).
    during = [one for one in samples if one["t"] <= seconds]
    late = during[len(during) // 2 :]
    growth = None
    if len(late) >= 2:
        mean_t = statistics.fmean(one["t"] for one in late)
        backlog = [one["answered"] - one["stored"] for one in late]
        mean_b = statistics.fmean(backlog)
        spread = sum((one["t"] - mean_t) ** 2 for one in late)
        growth = (
            sum((one["t"] - mean_t) * (b - mean_b) for one, b in zip(late, backlog, strict=True)) / spread
        )
    result = {
        "benchmark": "api",
        "endpoint": f"/1.1/{args.endpoint}",
        "requests": len(results),
        "concurrency": args.concurrency,
        "offered_rate": args.rate or None,
        "server_processes": args.processes,
        "server_threads": args.threads,
        "task_workers": args.workers,
        "cpus": os.cpu_count(),
        "seconds": round(seconds, 3),
        "requests_per_second": round(len(results) / seconds, 1),
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p90_ms": round(percentile(latencies, 0.90), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(latencies[-1], 2) if latencies else None,
        # What one request costs in CPU, whatever else the machine was doing: the capacity of
        # idle cores is about cores * 1000 / (server + client) requests a second.
        "server_cpu_ms_per_request": round(server_cpu * 1000 / len(results), 3),
        "client_cpu_ms_per_request": round(client_cpu * 1000 / len(results), 3),
        # The task worker storing the comments (items, decisions, analysis), burst and catch-up.
        "task_worker_cpu_ms_per_request": round(task_cpu * 1000 / len(results), 3),
        # The same, process by process (the server's parent process included among the web ones).
        "web_process_cpu_ms_per_request": [round(cpu * 1000 / len(results), 3) for cpu in per_web_process],
        "task_worker_process_cpu_ms_per_request": [
            round(cpu * 1000 / len(results), 3) for cpu in per_task_worker
        ],
        # The local PostgreSQL server's processes, during the burst and until all was stored.
        "database_cpu_ms_per_request": round(database_cpu * 1000 / len(results), 3),
        "database_cpu_ms_per_request_with_storing": round(database_cpu_all * 1000 / len(results), 3),
        "waiting_to_store_after_burst": left_after_burst,
        "seconds_to_store_the_rest": round(storing_seconds, 2),
        "left_unstored": left_unstored,
        # Counted in the database (items of the site's channel with their decision), not answers.
        "answered": len(latencies),
        "stored_during_burst": at_burst_end["stored"],
        "stored": at_end["stored"],
        "analysed": at_end["analysed"],
        "answered_per_second": round(len(latencies) / seconds, 1),
        "stored_per_second_during_burst": round(at_burst_end["stored"] / seconds, 1),
        # Comments a second the whole pipeline sustained, answered and stored, catch-up included.
        "stored_per_second": round(at_end["stored"] / (seconds + storing_seconds), 1),
        "backlog_max": max((one["answered"] - one["stored"] for one in samples), default=None),
        "backlog_growth_per_second_second_half": None if growth is None else round(growth, 2),
        "backlog": samples,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "errors": len(errors),
        "error_samples": errors[:5],
        "answers": {answer: answers.count(answer) for answer in sorted(set(answers))},
        "database": "postgresql" if args.database_url.startswith("postgres") else "sqlite",
        "targets": {"requests_per_second": 500, "p99_ms": 50},
    }
    output = json.dumps(result, indent=1)
    print(output)
    if args.json_out:
        Path(args.json_out).write_text(output + "\n")
    print(
        f"api {args.endpoint}: {result['requests_per_second']:.0f} requests/s, p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms, {result['server_cpu_ms_per_request']} ms of server CPU a request, "
        f"{result['errors']} errors; "
        f"answered {result['answered_per_second']:.0f}/s, stored {result['stored_per_second_during_burst']:.0f}/s "
        f"during the burst (counted in the database), backlog at most {result['backlog_max']}, "
        f"growing {result['backlog_growth_per_second_second_half']}/s in its second half; "
        + (
            f"{result['answered'] - result['stored']} not stored yet "
            f"{result['seconds_to_store_the_rest']} s after the burst "
            if result["stored"] < result["answered"]
            else f"all stored {result['seconds_to_store_the_rest']} s after the burst "
            f"({result['stored_per_second']:.0f} stored/s overall) "
        )
        + f"({args.requests} requests, {args.concurrency} connections"
        f"{f', offered at {args.rate:.0f}/s' if args.rate else ''}, {os.cpu_count()} CPUs, "
        f"load average {result['load_average_1min']})"
    )


if __name__ == "__main__":
    main()
