"""Akismet-compatible API throughput: comment-check over loopback against the production server.

    palabre bench api [--requests 3000] [--concurrency 16] [--threads 8] [--workers 1] [--json-out FILE]

Starts `palabre serve` (waitress, the embedded task worker) on a fresh SQLite database in a
temporary folder, registers an organisation and a site, then fires comment-check requests from a
pool of threads, each with its own httpx client, and stops. Every request is a new comment: it is
stored as an item, moderated with the organisation's rules and answered. Prints a JSON object
and a one-line summary. Target: >= 500 requests/s and p99 < 50 ms on 2 cores.
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
SETUP = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.contrib.auth import get_user_model
from palabre.moderation.services import create_moderation_site
from palabre.orgs.services import Actor, create_organisation
owner = get_user_model().objects.create_user(username="bench", password="bench-password-2024")
organisation = create_organisation(name="Maison Bench", owner=owner)
site, key = create_moderation_site(actor=Actor.palabre(organisation), name="Blog", url=%r)
print(key)
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


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--threads", type=int, default=8, help="web server threads")
    parser.add_argument("--workers", type=int, default=1, help="embedded task workers of the server")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument(
        "--endpoint",
        choices=["comment-check", "verify-key"],
        default="comment-check",
        help="verify-key measures the stack alone (key, rate limit), with no storage",
    )
    parser.add_argument("--json-out", default="")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="palabre-bench-api-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "palabre.settings",
        "PALABRE_DATA_DIR": str(folder),
        "PALABRE_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "PALABRE_AKISMET_RATE_LIMIT": "0",
        "PALABRE_TASKS_BACKEND": "database",
    }
    key = subprocess.run(
        [sys.executable, "-c", SETUP % SITE_URL], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
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
            "--threads",
            str(args.threads),
            "--workers",
            str(args.workers),
            "--no-migrate",
        ],
        env=env,
        # A file, not a pipe: waitress's warnings would fill a pipe nobody reads and stall the server.
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=30)
            with lock:
                clients.append(local.client)
        return local.client

    def check(number: int) -> tuple[float, int, str]:
        data = {
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
        if args.endpoint == "verify-key":
            data = {"key": key, "blog": SITE_URL}
        start = time.perf_counter()
        try:
            response = client().post(f"/1.1/{args.endpoint}", data=data)
            status, body = response.status_code, response.text
        except httpx.HTTPError as error:
            status, body = 0, type(error).__name__
        return (time.perf_counter() - start) * 1000, status, body

    try:
        wait_until_up(base, key, server)
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            list(pool.map(check, range(-args.warmup, 0)))
            started = time.perf_counter()
            results = list(pool.map(check, range(args.requests)))
            seconds = time.perf_counter() - started
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
    result = {
        "benchmark": "api",
        "endpoint": f"/1.1/{args.endpoint}",
        "requests": len(results),
        "concurrency": args.concurrency,
        "server_threads": args.threads,
        "embedded_workers": args.workers,
        "cpus": os.cpu_count(),
        "seconds": round(seconds, 3),
        "requests_per_second": round(len(results) / seconds, 1),
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p90_ms": round(percentile(latencies, 0.90), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(latencies[-1], 2) if latencies else None,
        "errors": len(errors),
        "error_samples": errors[:5],
        "answers": {answer: answers.count(answer) for answer in sorted(set(answers))},
        "database": "sqlite",
        "targets": {"requests_per_second": 500, "p99_ms": 50},
    }
    output = json.dumps(result, indent=1)
    print(output)
    if args.json_out:
        Path(args.json_out).write_text(output + "\n")
    print(
        f"api {args.endpoint}: {result['requests_per_second']:.0f} requests/s, p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms, {result['errors']} errors "
        f"({args.requests} requests, {args.concurrency} concurrent, {os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
