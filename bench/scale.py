"""Palabre at scale on one machine: two web processes, three task workers, PostgreSQL and Redis,
under a steady comment-check load, with one worker killed and restarted and PostgreSQL restarted.

    palabre bench scale [--seconds 600] [--rate 500] [--workers 3] [--kill-worker-at 0.3]
                        [--restart-postgres-at 0.6] [--json-out FILE]

Starts a throwaway PostgreSQL server (Debian's, run as `postgres` when root) and Redis in a
temporary folder, migrates, registers an organisation and a site, then starts two `palabre serve`
processes (one web process each, on two ports, no embedded worker) and `--workers` `palabre
worker` processes, all on that PostgreSQL and Redis. Comment-checks are sent at `--rate` a second
(open loop: each request has its time), alternately to the two web processes. At `--kill-worker-at`
of the run one worker is killed (SIGKILL) and started again two seconds later; at
`--restart-postgres-at` PostgreSQL is restarted (`pg_ctl restart -m fast`). The backlog (comments
answered and not stored yet, tasks waiting) is sampled every second.

Afterwards it waits for the backlog to drain and checks: every comment answered 200 is stored
exactly once (one item per comment, one automatic decision per item), what the clients got while
PostgreSQL restarted (status and body), and that the unknown-key limit holds across the two web
processes (guesses sent alternately to both: refused by both after PALABRE_KEY_FAILURE_LIMIT in all,
once each has re-read the block, within a second).
Prints a JSON object (the backlog series included) and a one-line summary.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

_spec = importlib.util.spec_from_file_location("bench_api", Path(__file__).with_name("api.py"))
api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api)

KEY_LIMIT = 20
# Tasks due or running; the periodic ones wait for their time (run_after) and never empty the queue.
# A task enqueued with no time has django-tasks-db's farthest date as its run_after.
DUE_TASKS = (
    "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING' "
    "OR (status = 'READY' AND (run_after <= now() OR run_after >= '9000-01-01'))"
)


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        sys.exit("PostgreSQL's initdb not found (apt install postgresql)")
    return Path(initdb).parent


def start_redis(port: int, folder: Path) -> subprocess.Popen:
    """A throwaway Redis on loopback that keeps nothing on disk."""
    return subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class Postgres:
    def __init__(self, folder: Path):
        self.bin = postgres_bin()
        self.folder = folder
        self.port = api.free_port()
        self.data = folder / "pg"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(folder, "postgres")

    def run(self, *argv: str) -> None:
        subprocess.run(
            [*self.as_user, *argv], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def start(self) -> None:
        if not self.data.exists():
            self.run(
                str(self.bin / "initdb"), "-D", str(self.data), "-U", "palabre", "-A", "trust", "-E", "UTF8"
            )
        self.run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "pg.log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200",
            "start",
        )

    def create_database(self, name: str = "palabre") -> None:
        self.run(
            str(self.bin / "createdb"), "-h", str(self.folder), "-p", str(self.port), "-U", "palabre", name
        )

    def restart(self) -> float:
        started = time.perf_counter()
        # The restarted server writes to the log file, not to a pipe of ours that would stay open.
        self.run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "pg.log"),
            "-m",
            "fast",
            "-w",
            "restart",
        )
        return time.perf_counter() - started

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"postgres://palabre@127.0.0.1:{self.port}/palabre"


def sql(url: str, query: str) -> int:
    import psycopg

    with psycopg.connect(url, connect_timeout=2) as db:
        return db.execute(query).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=100, help="comment-checks a second, in all")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8, help="threads of each web process")
    parser.add_argument("--concurrency", type=int, default=32, help="client connections")
    parser.add_argument("--kill-worker-at", type=float, default=0.3)
    parser.add_argument("--restart-postgres-at", type=float, default=0.6)
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--json-out", default="")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="palabre-bench-scale-"))
    folder.chmod(0o755)
    (folder / "postgres").mkdir()
    postgres = Postgres(folder / "postgres")
    redis_port = api.free_port()
    processes: dict[str, subprocess.Popen] = {}
    logs = []
    try:
        postgres.start()
        postgres.create_database()
        redis = start_redis(redis_port, folder)
        processes["redis"] = redis
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "palabre.settings",
            "PALABRE_DATA_DIR": str(folder / "data"),
            "PALABRE_DATABASE_URL": postgres.url,
            "PALABRE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "PALABRE_AKISMET_RATE_LIMIT": "10000000",
            "PALABRE_KEY_FAILURE_LIMIT": str(KEY_LIMIT),
            "PALABRE_TASKS_BACKEND": "database",
            "PYTHONUNBUFFERED": "1",
        }
        key = subprocess.run(
            [sys.executable, "-c", api.SETUP % api.SITE_URL],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[0]  # the set-up prints the key, then the site's channel

        def start(name: str, argv: list[str]) -> None:
            log = (folder / f"{name}.log").open("a")
            logs.append(log)
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "palabre", *argv], env=env, stdout=log, stderr=subprocess.STDOUT
            )

        ports = [api.free_port(), api.free_port()]
        for number, port in enumerate(ports):
            start(
                f"web{number}",
                [
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--processes",
                    "1",
                    "--threads",
                    str(args.threads),
                    "--workers",
                    "0",
                    "--no-migrate",
                ],
            )
        for number in range(args.workers):
            start(f"worker{number}", ["worker", "--worker-id", f"scale-{number}"])
        for number, port in enumerate(ports):
            # Seven Python processes start at once: on a small machine that takes a while.
            api.wait_until_up(f"http://127.0.0.1:{port}", key, processes[f"web{number}"], timeout=300)

        local = threading.local()

        def client(number: int) -> api.KeepAliveClient:
            port = ports[number % 2]
            clients = local.__dict__.setdefault("clients", {})
            if port not in clients:
                clients[port] = api.KeepAliveClient(port)
            return clients[port]

        def body(number: int) -> bytes:
            return urlencode(
                {
                    "api_key": key,
                    "blog": api.SITE_URL,
                    "user_ip": f"198.51.100.{number % 250}",
                    "user_agent": "Mozilla/5.0 (bench)",
                    "comment_type": "comment",
                    "comment_author": f"Lecteur {number % 400}",
                    "comment_author_email": f"lecteur{number % 400}@example.org",
                    "permalink": f"{api.SITE_URL}articles/{number % 50}",
                    "comment_content": f"{api.SAMPLES[number % len(api.SAMPLES)]} (#{number})",
                }
            ).encode()

        total = int(args.seconds * args.rate)
        schedule = {"start": time.perf_counter() + 0.5}

        def check(number: int) -> tuple[float, float, int, str]:
            due = schedule["start"] + number / args.rate
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            try:
                status, text = client(number).post("/1.1/comment-check", body(number))
            except (OSError, ValueError) as error:
                status, text = 0, type(error).__name__
            return due - schedule["start"], (time.perf_counter() - due) * 1000, status, text

        backlog: list[dict] = []
        events: list[dict] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                moment = round(time.perf_counter() - schedule["start"], 1)
                try:
                    unstored = sql(
                        postgres.url, "SELECT COUNT(*) FROM moderation_checkedcomment WHERE error = ''"
                    )
                    waiting = sql(
                        postgres.url,
                        DUE_TASKS,
                    )
                    backlog.append({"t": moment, "unstored": unstored, "tasks_waiting": waiting})
                except Exception as error:  # PostgreSQL restarting
                    backlog.append({"t": moment, "error": type(error).__name__})
                done.wait(1.0)

        def faults() -> None:
            kill_at = schedule["start"] + args.seconds * args.kill_worker_at
            restart_at = schedule["start"] + args.seconds * args.restart_postgres_at
            time.sleep(max(0.0, kill_at - time.perf_counter()))
            victim = processes["worker0"]
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            events.append({"t": round(time.perf_counter() - schedule["start"], 1), "event": "worker0 killed"})
            time.sleep(2)
            start("worker0", ["worker", "--worker-id", "scale-0-again"])
            events.append(
                {"t": round(time.perf_counter() - schedule["start"], 1), "event": "worker0 started again"}
            )
            time.sleep(max(0.0, restart_at - time.perf_counter()))
            began = round(time.perf_counter() - schedule["start"], 1)
            seconds = postgres.restart()
            events.append({"t": began, "event": f"PostgreSQL restarted ({seconds:.1f} s)"})

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        fault_thread = threading.Thread(target=faults, daemon=True)
        fault_thread.start()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            results = list(pool.map(check, range(total)))
        load_seconds = time.perf_counter() - schedule["start"]
        fault_thread.join(timeout=120)
        drained_at = None
        deadline = time.perf_counter() + args.drain_timeout
        while time.perf_counter() < deadline:
            try:
                if not sql(
                    postgres.url, "SELECT COUNT(*) FROM moderation_checkedcomment WHERE error = ''"
                ) and not sql(
                    postgres.url,
                    DUE_TASKS,
                ):
                    drained_at = time.perf_counter() - schedule["start"]
                    break
            except Exception:
                pass
            time.sleep(1)
        done.set()
        sampler.join()

        accepted = sum(1 for _t, _ms, status, _text in results if status == 200)
        items = sql(postgres.url, "SELECT COUNT(*) FROM conversations_item")
        distinct = sql(
            postgres.url, "SELECT COUNT(DISTINCT (channel_id, external_id)) FROM conversations_item"
        )
        decided_twice = sql(
            postgres.url,
            "SELECT COUNT(*) FROM (SELECT item_id FROM moderation_moderationdecision WHERE source = 'automatic' "
            "GROUP BY item_id HAVING COUNT(*) > 1) AS twice",
        )
        undecided = sql(
            postgres.url,
            "SELECT COUNT(*) FROM conversations_item i WHERE NOT EXISTS "
            "(SELECT 1 FROM moderation_moderationdecision d WHERE d.item_id = i.id)",
        )

        # The unknown-key limit across the two web processes.
        # Each process re-reads an address's block at most once a second: the last two guesses,
        # one to each process, are sent a second after the limit was reached.
        guesses = []
        for number in range(KEY_LIMIT + 2):
            if number == KEY_LIMIT:
                time.sleep(1.1)
            status, _text = api.KeepAliveClient(ports[number % 2]).post(
                "/1.1/verify-key", urlencode({"key": f"guess{number:012d}", "blog": api.SITE_URL}).encode()
            )
            guesses.append(status)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        postgres.stop()
        for log in logs:
            log.close()
        if not os.environ.get("PALABRE_BENCH_KEEP"):  # keep the logs to read them
            shutil.rmtree(folder, ignore_errors=True)

    latencies = sorted(ms for _t, ms, status, _text in results if status == 200)
    errors: dict[str, int] = {}
    for _t, _ms, status, text in results:
        if status != 200:
            label = f"{status} {text.strip()[:60]}"
            errors[label] = errors.get(label, 0) + 1
    per_second: dict[int, int] = {}
    for moment, _ms, status, _text in results:
        if status == 200:
            per_second[int(moment)] = per_second.get(int(moment), 0) + 1
    result = {
        "benchmark": "scale",
        "web_processes": 2,
        "task_workers": args.workers,
        "cpus": os.cpu_count(),
        "offered_rate": args.rate,
        "seconds": round(load_seconds, 1),
        "requests": len(results),
        "accepted": accepted,
        "accepted_per_second": round(accepted / load_seconds, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(api.percentile(latencies, 0.99), 1),
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "errors": errors,
        "events": events,
        "drained_after_seconds": round(drained_at, 1) if drained_at else None,
        "items_stored": items,
        "items_distinct": distinct,
        "items_decided_twice": decided_twice,
        "items_undecided": undecided,
        # A comment whose answer was lost (503 while PostgreSQL restarted) may be stored all the
        # same: its client sends it again, and the same comment is the same item (no duplicate).
        "stored_though_answered_an_error": items - accepted,
        "exactly_once": items == distinct
        and accepted <= items <= len(results)
        and decided_twice == 0
        and undecided == 0,
        "key_guesses_statuses": guesses,
        "key_limit_held_across_processes": guesses[:KEY_LIMIT] == [200] * KEY_LIMIT
        and set(guesses[KEY_LIMIT:]) == {429},
        "accepted_per_second_series": [per_second.get(second, 0) for second in range(int(load_seconds) + 1)],
        "backlog": backlog,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    output = json.dumps(result, indent=1)
    print(output)
    if args.json_out:
        Path(args.json_out).write_text(output + "\n")
    print(
        f"scale: {result['accepted_per_second']:.0f} accepted/s of {args.rate:.0f} offered for {load_seconds:.0f} s, "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, {sum(errors.values())} errors, "
        f"drained {result['drained_after_seconds']} s after start, exactly once: {result['exactly_once']}, "
        f"key limit across processes: {result['key_limit_held_across_processes']} "
        f"({os.cpu_count()} CPUs, load average {result['load_average_1min']})"
    )


if __name__ == "__main__":
    main()
