"""Analytics speed at scale: the dashboard (two periods, every block, the charts), server time.

    PALABRE_DATABASE_URL=postgres://... palabre bench analytics [--items 1000000] [--repeat 10]
        [--days 28] [--reuse [--org SLUG]] [--json-out FILE]

Needs a THROWAWAY PostgreSQL database: the data is the inbox benchmark's (bench/inbox.py: one
organisation, `--items` items over 90 days in threads, their inbox rows, the brand's answers),
built the same way, or reused with `--reuse` when a previous `palabre bench inbox` or `analytics`
run left it there.

For the last `--days` days and for the whole 90 days it times:
- each panel on its own (`care`, `quality`, `health`, `listening`, `team`: both periods, as the
  dashboard computes them; `charts`: drawing the three charts), with its number of queries;
- the whole page through Django's test client (/analytics/), cold: the cache of finished figures
  is emptied before each request, so every request computes them;
- the same page warm: the figures are read from that cache (another member, or a reload, within
  ANALYTICS_CACHE_SECONDS while the organisation's data has not changed).
Prints a JSON object (p50 and p95 in milliseconds of wall time, and of CPU time: this process's
plus the PostgreSQL backend's, which a loaded machine does not inflate) and a one-line summary.
Target: p95 < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inbox import build, percentile, reuse, setup_django, timed  # noqa: E402  (the sibling benchmark)


def _stats(samples: list[float], cpu: list[float] | None = None) -> dict[str, float]:
    out = {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
    }
    if cpu:
        out["cpu_p50_ms"] = round(statistics.median(cpu), 1)
        out["cpu_p95_ms"] = round(percentile(cpu, 0.95), 1)
    return out


class CpuClock:
    """CPU time of this process plus the PostgreSQL backend serving its connection and the parallel
    workers it started (read from /proc, so the server must run on this machine): on a machine
    shared with other work, wall time measures the others' load too, CPU time only what the
    request cost.

    A parallel query's workers are processes of their own that end with the query: their CPU is
    read from the postmaster's count of its ended children (cutime, cstime), which also takes the
    other connections and autovacuum workers that end meanwhile: the benchmark's throwaway server
    has no other client."""

    def __init__(self) -> None:
        from django.db import connection

        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend = cursor.fetchone()[0]
        self.tick = os.sysconf("SC_CLK_TCK")
        fields = self._stat(self.backend)
        self.postmaster = int(fields[1]) if fields else None  # the backend's parent

    @staticmethod
    def _stat(pid: int) -> list[str] | None:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                return stat.read().rsplit(")", 1)[1].split()
        except OSError:  # the server is elsewhere: its share is not counted
            return None

    def _server_seconds(self) -> float:
        backend = self._stat(self.backend)
        if backend is None:
            return 0.0
        seconds = int(backend[11]) + int(backend[12])  # utime, stime
        ended = self._stat(self.postmaster) if self.postmaster else None
        if ended is not None:
            seconds += int(ended[13]) + int(ended[14])  # cutime, cstime: the ended workers
        return seconds / self.tick

    def now(self) -> float:
        return time.process_time() + self._server_seconds()


def _panels(organisation, period, now, repeat: int) -> dict[str, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from palabre.analytics import charts, metrics
    from palabre.analytics.metrics import Filters
    from palabre.analytics.metrics.sql import read_figures

    filters = Filters()
    previous = period.previous()
    blocks = {
        "care": lambda p: metrics.care(organisation, p, filters, now=now),
        "quality": lambda p: metrics.quality(organisation, p, filters),
        "health": lambda p: metrics.health(organisation, p, filters),
        "listening": lambda p: metrics.listening(organisation, p),
        "team": lambda p: metrics.team(organisation, p, filters),
    }
    out: dict[str, dict] = {}
    figures = {}
    cpu_clock = CpuClock()
    for name, compute in blocks.items():
        samples, cpu = [], []
        for _ in range(repeat):
            began, cpu_began = time.perf_counter(), cpu_clock.now()
            # As the page reads them: one transaction, without JIT, the brand's handles read once.
            with CaptureQueriesContext(connection) as queries, read_figures():
                figures[name] = compute(period)
                compute(previous)
            samples.append((time.perf_counter() - began) * 1000)
            cpu.append((cpu_clock.now() - cpu_began) * 1000)
        out[name] = {**_stats(samples, cpu), "queries": len(queries.captured_queries)}
    samples, cpu = [], []
    for _ in range(repeat):
        began, cpu_began = time.perf_counter(), cpu_clock.now()
        charts.mentions_chart(figures["listening"]["per_day"])
        charts.response_chart(figures["care"]["by_channel"])
        charts.team_chart(figures["team"]["members"])
        samples.append((time.perf_counter() - began) * 1000)
        cpu.append((cpu_clock.now() - cpu_began) * 1000)
    out["charts"] = {**_stats(samples, cpu), "queries": 0}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--reuse", action="store_true", help="Measure on the data a previous run left.")
    parser.add_argument(
        "--org", default="", help="With --reuse: the benchmark organisation's slug (default: the latest)."
    )
    parser.add_argument("--json-out", default="")
    args = parser.parse_args()
    setup_django()
    from datetime import timedelta

    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from palabre.analytics.metrics import Period
    from palabre.analytics.metrics.cached import CACHE_ALIAS

    world = reuse(args.org) if args.reuse else build(args.items, random.Random(42))
    organisation = world["organisation"]
    client = Client(HTTP_HOST="localhost")
    client.force_login(world["owner"])
    today = timezone.localdate()
    periods = {f"last_{args.days}_days": args.days, "last_90_days": 90}
    cache = caches[CACHE_ALIAS]
    results = {}
    for name, days in periods.items():
        first = today - timedelta(days=days - 1)
        url = f"/analytics/?from={first}&to={today}"
        cache.clear()
        client.get(url)  # warm the process (templates, URL resolver)
        cpu_clock = CpuClock()
        cold: list[float] = []
        cold_cpu: list[float] = []
        for _ in range(args.repeat):
            cache.clear()
            began = cpu_clock.now()
            cold += timed(client, url, 1)
            cold_cpu.append((cpu_clock.now() - began) * 1000)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        cold_queries = len(queries.captured_queries)
        warm: list[float] = []
        warm_cpu: list[float] = []
        for _ in range(args.repeat):
            began = cpu_clock.now()
            warm += timed(client, url, 1)
            warm_cpu.append((cpu_clock.now() - began) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        warm_queries = len(queries.captured_queries)
        period = Period(first, today, organisation.time_zone)
        results[name] = {
            "page_cold": {**_stats(cold, cold_cpu), "queries": cold_queries},
            "page_warm": {**_stats(warm, warm_cpu), "queries": warm_queries},
            "panels": _panels(organisation, period, timezone.now(), args.repeat),
        }
    out = {
        "benchmark": "analytics",
        "items": world.get("items", args.items),
        "threads": world.get("threads"),
        "database": connection.vendor,
        "repeat": args.repeat,
        "dashboard": results,
        "target_p95_ms": 1000,
        # Wall time depends on it: the machine's other work takes its share of the cores.
        "load_average": [round(n, 1) for n in os.getloadavg()],
    }
    text = json.dumps(out, indent=2)
    print(text)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
    summary = "; ".join(
        f"{k}: p95 {v['page_cold']['p95_ms']} ms cold (CPU {v['page_cold']['cpu_p95_ms']} ms, "
        f"{'OK' if v['page_cold']['cpu_p95_ms'] < 1000 else 'ABOVE TARGET'}), "
        f"{v['page_warm']['p95_ms']} ms warm (CPU {v['page_warm']['cpu_p95_ms']} ms), "
        # Where a cold page's CPU goes: each costly panel's p50 CPU, both periods.
        "panels' CPU p50 "
        + ", ".join(
            f"{panel} {v['panels'][panel]['cpu_p50_ms']:.0f}" for panel in ("care", "quality", "team")
        )
        + " ms"
        for k, v in results.items()
    )
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(
        f"analytics dashboard on {out['items']} items (target p95 < 1000 ms; load average {load}): {summary}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
