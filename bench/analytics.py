"""Analytics speed at scale: the dashboard (two periods, every block, the charts), server time.

    PALABRE_DATABASE_URL=postgres://... palabre bench analytics [--items 1000000] [--repeat 10]
        [--days 28] [--reuse] [--json-out FILE]

Needs a THROWAWAY PostgreSQL database: the data is the inbox benchmark's (bench/inbox.py: one
organisation, `--items` items over 90 days in threads, their inbox rows), built the same way, or
reused with `--reuse` when a previous `palabre bench inbox` or `analytics` run left it there.
Times Django's test client on /analytics/ for the last `--days` days and for the whole 90 days,
Prints a JSON object and a one-line summary. Target: p95 < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inbox import build, percentile, reuse, setup_django, timed  # noqa: E402  (the sibling benchmark)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--reuse", action="store_true", help="Measure on the data a previous run left.")
    parser.add_argument("--json-out", default="")
    args = parser.parse_args()
    setup_django()
    from datetime import timedelta

    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    world = reuse() if args.reuse else build(args.items, random.Random(42))
    client = Client(HTTP_HOST="localhost")
    client.force_login(world["owner"])
    today = timezone.localdate()
    urls = {
        f"last_{args.days}_days": f"/analytics/?from={today - timedelta(days=args.days - 1)}&to={today}",
        "last_90_days": f"/analytics/?from={today - timedelta(days=89)}&to={today}",
    }
    results = {}
    for name, url in urls.items():
        client.get(url)  # warm the caches (templates, URL resolver)
        samples = timed(client, url, args.repeat)
        results[name] = {
            "p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(percentile(samples, 0.95), 1),
        }
    out = {
        "benchmark": "analytics",
        "items": world.get("items", args.items),
        "threads": world.get("threads"),
        "database": connection.vendor,
        "repeat": args.repeat,
        "dashboard": results,
        "target_p95_ms": 1000,
    }
    text = json.dumps(out, indent=2)
    print(text)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
    summary = ", ".join(f"{k}: p95 {v['p95_ms']} ms" for k, v in results.items())
    print(f"analytics dashboard on {out['items']} items: {summary}", file=sys.stderr)


if __name__ == "__main__":
    main()
