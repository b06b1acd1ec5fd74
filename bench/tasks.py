"""Where the task queue saturates: N small tasks run by 1, 2, 3... `palabre worker` processes on
PostgreSQL, with the database backend (django-tasks-db) and with the Redis one (PALABRE_TASKS_BACKEND=rq).

    palabre bench tasks [--tasks 2000] [--workers 1,2,3] [--backends database,rq] [--work-ms 0]
                        [--json-out FILE]

Starts a throwaway PostgreSQL server (as bench/scale.py does) and Redis in a temporary folder and
migrates. Then, for each backend and each number of workers: the queue is emptied, `--tasks` tasks
(bench/support/small_task.py: `--work-ms` of CPU, then a line with its pid, start and end) are
enqueued through Django's task API by one process, then the workers are started and the bench
waits until every task has run. Reported per run:

- tasks_per_second: tasks run / (last task's end - first task's start), the workers' startup excluded;
- claim_ms (p50, p90, p99): in each worker, the time from the end of one task to the start of the
  next: what taking a task from the queue (and recording the previous one's end) costs;
- enqueue_per_second of the single enqueuing process;
- cpu_seconds of the workers (their process trees) and of the PostgreSQL and Redis servers during
  the run, and the machine's load average before and after (other work on a shared machine shows).

Prints a JSON object and a summary line per run.
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
import time
from pathlib import Path

_here = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_scale", _here / "scale.py")
scale = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scale)
api = scale.api

ENQUEUE = """
import json, sys, time
import django
django.setup()
from small_task import small

count, path, work_ms = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
started = time.perf_counter()
for _ in range(count):
    small.enqueue(path, work_ms)
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def cpu_of(pid: int) -> float:
    return sum(api.process_tree_cpu_seconds(pid).values())


def postmaster_pid(postgres) -> int:
    return int((postgres.data / "postmaster.pid").read_text().split()[0])


def empty_queues(backend: str, postgres_url: str, redis_url: str) -> None:
    import psycopg
    import redis

    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("DELETE FROM django_tasks_database_dbtaskresult")
    redis.Redis.from_url(redis_url).flushdb()


def one_run(
    *, backend: str, workers: int, tasks: int, work_ms: float, env: dict, folder: Path, postgres, redis
) -> dict:
    run_env = {**env, "PALABRE_TASKS_BACKEND": backend}
    empty_queues(backend, env["PALABRE_DATABASE_URL"], env["PALABRE_REDIS_URL"])
    lines = folder / f"runs-{backend}-{workers}.txt"
    lines.unlink(missing_ok=True)
    enqueued = subprocess.run(
        [sys.executable, "-c", ENQUEUE, str(tasks), str(lines), str(work_ms)],
        env=run_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if enqueued.returncode != 0:
        sys.exit(f"enqueuing failed:\n{enqueued.stderr[-3000:]}")
    enqueue_seconds = json.loads(enqueued.stdout.strip().splitlines()[-1])["seconds"]

    load_before = os.getloadavg()[0]
    servers_before = cpu_of(postmaster_pid(postgres)), cpu_of(redis.pid)
    processes, logs = [], []
    started = time.monotonic()
    for number in range(workers):
        log = (folder / f"worker-{backend}-{workers}-{number}.log").open("w")
        logs.append(log)
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "palabre",
                    "worker",
                    "--worker-id",
                    f"bench-{number}",
                    "--interval",
                    "0.2",
                ],
                env=run_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        done = 0
        # Each worker's CPU once it runs its first task: its start (imports, models) is not counted.
        cpu_at_first_task: dict[int, float] = {}
        while done < tasks:
            if time.monotonic() - started > 600:
                sys.exit(f"{backend}, {workers} worker(s): only {done} of {tasks} tasks ran in 600 s")
            for process in processes:
                if process.poll() is not None:
                    sys.exit(f"a worker stopped (code {process.returncode}); see {folder}")
            time.sleep(0.2)
            ran = lines.read_text().splitlines() if lines.exists() else []
            done = len(ran)
            seen = {int(line.split()[0]) for line in ran}
            for process in processes:
                if process.pid in seen and process.pid not in cpu_at_first_task:
                    cpu_at_first_task[process.pid] = cpu_of(process.pid)
        worker_cpu = sum(cpu_of(pid) - cpu for pid, cpu in cpu_at_first_task.items())
        servers_after = cpu_of(postmaster_pid(postgres)), cpu_of(redis.pid)
        load_after = os.getloadavg()[0]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()

    runs: dict[str, list[tuple[float, float]]] = {}
    for line in lines.read_text().splitlines():
        pid, begin, end = line.split()
        runs.setdefault(pid, []).append((float(begin), float(end)))
    gaps = []
    for spans in runs.values():
        spans.sort()
        gaps += [
            (begin - previous_end) * 1000
            for (_b, previous_end), (begin, _e) in zip(spans, spans[1:], strict=False)
        ]
    first = min(begin for spans in runs.values() for begin, _end in spans)
    last = max(end for spans in runs.values() for _begin, end in spans)
    return {
        "backend": backend,
        "workers": workers,
        "tasks": tasks,
        "work_ms": work_ms,
        "seconds": round(last - first, 3),
        "tasks_per_second": round(tasks / (last - first), 1),
        "tasks_per_worker": sorted(len(spans) for spans in runs.values()),
        "claim_ms": {
            "p50": round(percentile(gaps, 0.5), 2),
            "p90": round(percentile(gaps, 0.9), 2),
            "p99": round(percentile(gaps, 0.99), 2),
            "mean": round(statistics.fmean(gaps), 2) if gaps else 0.0,
        },
        "enqueue_per_second": round(tasks / enqueue_seconds, 1),
        # CPU milliseconds per task: what a task costs the machine, whatever else runs on it.
        "cpu_ms_per_task": {
            "workers": round(worker_cpu * 1000 / tasks, 2),
            "postgres": round((servers_after[0] - servers_before[0]) * 1000 / tasks, 2),
            "redis": round((servers_after[1] - servers_before[1]) * 1000 / tasks, 2),
        },
        "cpu_seconds": {
            "workers": round(worker_cpu, 2),
            "postgres": round(servers_after[0] - servers_before[0], 2),
            "redis": round(servers_after[1] - servers_before[1], 2),
        },
        "load_average": {"before": round(load_before, 2), "after": round(load_after, 2)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,3", help="comma-separated numbers of workers")
    parser.add_argument("--backends", default="database,rq")
    parser.add_argument("--work-ms", type=float, default=0.0, help="CPU milliseconds of each task")
    parser.add_argument("--json-out", default="")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="palabre-bench-tasks-"))
    folder.chmod(0o755)
    (folder / "postgres").mkdir()
    postgres = scale.Postgres(folder / "postgres")
    redis_port = api.free_port()
    redis = None
    try:
        postgres.start()
        postgres.create_database()
        redis = scale.start_redis(redis_port, folder)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "palabre.settings",
            "PALABRE_DATA_DIR": str(folder / "data"),
            "PALABRE_DATABASE_URL": postgres.url,
            "PALABRE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(_here / "support"), os.environ.get("PYTHONPATH")])
            ),
            "PYTHONUNBUFFERED": "1",
        }
        subprocess.run(
            [sys.executable, "-m", "palabre", "migrate"],
            env={**env, "PALABRE_TASKS_BACKEND": "database"},
            check=True,
            capture_output=True,
        )
        results = []
        for backend in args.backends.split(","):
            for workers in (int(n) for n in args.workers.split(",")):
                result = one_run(
                    backend=backend,
                    workers=workers,
                    tasks=args.tasks,
                    work_ms=args.work_ms,
                    env=env,
                    folder=folder,
                    postgres=postgres,
                    redis=redis,
                )
                results.append(result)
                print(
                    f"{backend:8} {workers} worker(s): {result['tasks_per_second']:7.1f} tasks/s, claim "
                    f"p50 {result['claim_ms']['p50']} ms p99 {result['claim_ms']['p99']} ms, CPU ms/task: "
                    f"workers {result['cpu_ms_per_task']['workers']}, postgres "
                    f"{result['cpu_ms_per_task']['postgres']}, redis {result['cpu_ms_per_task']['redis']}; "
                    f"load {result['load_average']['before']}->{result['load_average']['after']}",
                    file=sys.stderr,
                    flush=True,
                )
        report = {
            "bench": "tasks",
            "cpus": os.cpu_count(),
            "tasks": args.tasks,
            "work_ms": args.work_ms,
            "runs": results,
        }
        text = json.dumps(report, indent=2)
        print(text)
        if args.json_out:
            Path(args.json_out).write_text(text + "\n")
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
        postgres.stop()
        if not os.environ.get("PALABRE_BENCH_KEEP"):  # keep the logs to read them
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
