"""Benchmark of the moderation models: load time, batch throughput, single-item latency.

    PYTHONPATH=src python bench/moderation_models.py [--items 4000] [--single 2000]

Prints one JSON object, then a one-line summary. Single core: set OMP/MKL threads to 1
before numpy loads, as a worker process would run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def real_texts() -> list[str]:
    """Short real comments and tweets from the shared data sets, when they are there."""
    texts: list[str] = []
    for name in ("youtube_spam_en", "sms_spam_en", "mlma_fr", "sentiment_fr", "tweeteval_offensive_en"):
        path = DATASETS / name / "test.csv"
        if path.exists():
            with path.open(encoding="utf-8", newline="") as f:
                texts += [row["text"] for row in csv.DictReader(f)][:400]
    return texts


def corpus(n: int, seed: int = 7) -> list[str]:
    from palabre.nlp.synthetic import french_ham, french_spam

    base = (
        [t for _, t in french_spam(60)]
        + [t for _, t in french_ham(60)]
        + [
            "Merci pour votre réponse, tout est réglé !",
            "Ferme ta gueule espèce de c0nnard",
            "Les musulmans sont tous des voleurs",
            "I love this song so much, thanks for sharing",
            "shut up you stupid b1tch",
            "Quand est-ce que vous livrez à Lyon ?",
            "check out my channel http://bit.ly/abc and subscribe",
            "je sais où tu habites, je vais te buter",
            "Super produit, je recommande 😍👍",
            "T'es vraiment n u l, rembourse moi !!!",
        ]
    )
    base += real_texts()
    rng = random.Random(seed)
    return [rng.choice(base) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=4000)
    ap.add_argument("--single", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()

    t = time.perf_counter()
    from palabre.nlp.classifiers import load_models

    models = load_models()
    models.score("warm up")
    load_s = time.perf_counter() - t

    texts = corpus(args.items)
    models.score_many(texts[: args.batch])  # warm caches
    t = time.perf_counter()
    for i in range(0, len(texts), args.batch):
        models.score_many(texts[i : i + args.batch])
    batch_s = time.perf_counter() - t

    lat = []
    for text in corpus(args.single, seed=11):
        t = time.perf_counter()
        models.score(text)
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()

    t = time.perf_counter()
    for text in texts[:1000]:
        models.explain(text)
    explain_ms = time.perf_counter() - t

    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "version": models.version,
        "load_s": round(load_s, 3),
        "score_many_items_per_s": round(len(texts) / batch_s, 1),
        "batch_size": args.batch,
        "single_ms": {
            "p50": round(statistics.median(lat), 3),
            "p90": round(lat[int(0.90 * (len(lat) - 1))], 3),
            "p99": round(lat[int(0.99 * (len(lat) - 1))], 3),
            "max": round(lat[-1], 3),
        },
        "explain_ms_per_item": round(explain_ms, 3),
        "mean_chars": round(statistics.mean(len(x) for x in texts), 1),
        "distinct_texts": len(set(texts)),
        "peak_rss_mb": round(rss_kb / 1024, 1) if sys.platform != "darwin" else round(rss_kb / 2**20, 1),
        "python": sys.version.split()[0],
    }
    print(json.dumps(result, indent=1))
    print(
        f"moderation models: {result['score_many_items_per_s']:.0f} items/s batched, "
        f"single p50 {result['single_ms']['p50']} ms p99 {result['single_ms']['p99']} ms, "
        f"load {result['load_s']} s, peak RSS {result['peak_rss_mb']} MB"
    )


if __name__ == "__main__":
    main()
