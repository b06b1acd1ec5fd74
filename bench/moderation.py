"""Moderation speed on one core: whole decisions (normalisation, rules, classifiers, explanations).

    palabre bench moderation [--items 5000] [--json-out results.json]

Prints a JSON object and a one-line summary. Texts are the shared data sets' dev splits when
present (real comments), otherwise built-in samples. Targets: >= 2,000 items/s in batches on one
core, p99 < 5 ms for a single decision, with all models loaded.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import time
from pathlib import Path

# One core: no BLAS threads.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from palabre.moderation.engine import Author, ModerationContext, Rule, RuleSet, moderate, moderate_many  # noqa: E402
from palabre.nlp.classifiers import load_models  # noqa: E402

SAMPLES = [
    "Bonjour, le canapé Oslo existe-t-il en vert ? Merci d'avance",
    "Livraison en retard de trois semaines, personne ne répond au service client, c'est honteux",
    "Super article, merci ! https://mon-site-pas-cher.example.fr",
    "Espèce de c0nnaaard, vous êtes des voleurs",
    "Great post, thanks for sharing! Check my shop www.cheap-watches.example.com",
    "Je participe ! @marie @julien #concoursMaisonLumiere",
]


def texts(limit: int) -> list[str]:
    root = Path(os.environ.get("PALABRE_DATASETS", "../shared/datasets"))
    found: list[str] = []
    for name in ("youtube_spam_en", "mlma_fr", "sentiment_fr", "tweeteval_offensive_en", "sms_spam_en"):
        path = root / name / "dev.csv"
        if path.exists():
            with path.open(encoding="utf-8") as handle:
                found += [row["text"] for row in csv.DictReader(handle)]
    found = found or SAMPLES
    return [found[i % len(found)] for i in range(limit)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--json-out", default="")
    args = parser.parse_args()

    started = time.perf_counter()
    load_models()
    load_seconds = time.perf_counter() - started

    rules = RuleSet(
        [
            Rule("rule:1", "banned_word", "arnaque*", "reject"),
            Rule("rule:2", "suspect_word", "remboursement", "hold"),
            Rule("rule:3", "regex", r"\b0[67](?:[ .]?\d\d){4}\b", "hold"),
            Rule("rule:4", "blocked_domain", "badshop.example"),
        ]
    )
    context = ModerationContext(rules=rules, author=Author(name="Camille"))
    corpus = texts(args.items)
    moderate_many(corpus[:100], [context] * 100)  # warm caches

    # Wall time and this thread's CPU time: on a shared machine the CPU figures say what one core
    # does, the wall figures what this run got.
    started = time.perf_counter()
    started_cpu = time.thread_time()
    for offset in range(0, len(corpus), args.batch):
        chunk = corpus[offset : offset + args.batch]
        moderate_many(chunk, [context] * len(chunk))
    batch_seconds = time.perf_counter() - started
    batch_cpu_seconds = time.thread_time() - started_cpu

    latencies = []
    cpu_latencies = []
    for text in corpus[:2000]:
        start = time.perf_counter()
        start_cpu = time.thread_time()
        moderate(text, context)
        cpu_latencies.append((time.thread_time() - start_cpu) * 1000)
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    cpu_latencies.sort()

    result = {
        "benchmark": "moderation",
        "items": len(corpus),
        "batch_size": args.batch,
        "items_per_second_batched": round(len(corpus) / batch_seconds, 1),
        "single_p50_ms": round(statistics.median(latencies), 3),
        "single_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 3),
        "items_per_cpu_second_batched": round(len(corpus) / batch_cpu_seconds, 1),
        "single_cpu_p50_ms": round(statistics.median(cpu_latencies), 3),
        "single_cpu_p99_ms": round(cpu_latencies[int(len(cpu_latencies) * 0.99) - 1], 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "model_load_seconds": round(load_seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "targets": {"items_per_second_batched": 2000, "single_p99_ms": 5},
    }
    output = json.dumps(result, indent=1)
    print(output)
    if args.json_out:
        Path(args.json_out).write_text(output + "\n")
    print(
        f"moderation: {result['items_per_second_batched']:.0f} items/s batched, "
        f"p50 {result['single_p50_ms']} ms, p99 {result['single_p99_ms']} ms single, "
        f"load {result['model_load_seconds']} s, peak RSS {result['peak_rss_mb']} MB; CPU time: "
        f"{result['items_per_cpu_second_batched']:.0f} items/s batched, p99 {result['single_cpu_p99_ms']} ms "
        f"single (machine load average {result['load_average_1min']})"
    )


if __name__ == "__main__":
    main()
