"""Guardrail speed: the whole lint of a post (sensitive topics with hashtag splitting, trends,
charter, moderation models in the post's language, similarity to 200 competitor and 10 own posts,
stuffing, capitals), as the editor's live check and the publication run it.

    palabre bench guardrails [--posts 500] [--json-out results.json]

Prints a JSON object and a one-line summary. Target: p95 < 50 ms per post on one core, so the
live check answers while the person types.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palabre.settings")

import django  # noqa: E402

django.setup()

from palabre.publishing import guardrails as g  # noqa: E402

POSTS = [
    "Soldes d'hiver : -30 % sur tous nos canapés, livraison offerte ! #IranElection",
    "Samedi, l'atelier de Nantes ouvre ses portes : venez voir naître nos lampes en laiton. #deco #atelier",
    "NOUVELLE COLLECTION DISPONIBLE MAINTENANT EN BOUTIQUE 😍😍😍🔥🔥🔥✨✨",
    "Vert sauge, bleu nuit ou terracotta : quelle couleur pour notre prochaine lampe de chevet ?",
    "Code promo HIVER20 : -20 % sur les luminaires jusqu'à dimanche #attentatparis",
    "Our new brass lamp is handmade in Nantes: meet the people who turn it on Saturday.",
    "#FF @atelier_bois @lampes_co @deco_nantes merci pour vos partages !",
]


def main() -> None:
    parser = argparse.ArgumentParser(prog="palabre bench guardrails")
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--json-out", default="")
    args = parser.parse_args()

    competitors = [f"{POSTS[n % len(POSTS)]} (édition {n})" for n in range(200)]
    own = [g.RecentPost(f"Les coulisses de l'atelier, épisode {n}", n % 3 == 0) for n in range(10)]
    context = g.GuardrailContext(
        competitor_texts=competitors,
        recent_posts=own,
        charter_words=["pas cher*", "low cost"],
        trending=[g.TrendingTopic("GreveSNCF", 0.8), g.TrendingTopic("Tempête", 0.9)],
    )
    g.check(POSTS[0], context)  # load lexicons and models
    timings, verdicts = [], {"pass": 0, "warn": 0, "block": 0}
    started = time.perf_counter()
    for n in range(args.posts):
        text = POSTS[n % len(POSTS)]
        t0 = time.perf_counter()
        verdicts[g.check(text, context).verdict] += 1
        timings.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - started
    timings.sort()
    result = {
        "posts": args.posts,
        "posts_per_second": round(args.posts / total, 1),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
        "verdicts": verdicts,
        "target_p95_ms": 50,
    }
    print(json.dumps(result, indent=1))
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=1)
    status = "OK" if result["p95_ms"] < 50 else "SLOW"
    print(
        f"guardrails: {result['posts_per_second']} posts/s, p50 {result['p50_ms']} ms, "
        f"p95 {result['p95_ms']} ms (target < 50 ms): {status}"
    )


if __name__ == "__main__":
    main()
