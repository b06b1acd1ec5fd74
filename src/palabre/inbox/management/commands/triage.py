"""`palabre triage`: language, sentiment, intent and priority of JSON lines, one JSON line out per
input; no database."""

from __future__ import annotations

import argparse
import sys

from palabre.commandline import PalabreCommand


class Command(PalabreCommand):
    help = "Language, sentiment and intent of JSON lines; one JSON line out per input."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", nargs="?", default="")

    def run(self, args: argparse.Namespace) -> None:
        from palabre.inbox.priority import priority
        from palabre.jsonlines import answer_stream, opened
        from palabre.nlp.triage import triage_many

        def with_priority(data: dict, found) -> dict:
            answer = found.as_dict()
            followers = data.get("followers")
            waiting = data.get("waiting_minutes")
            score, reasons = priority(
                sentiment=found.sentiment,
                sentiment_scores=found.sentiment_scores,
                intent=found.intent.label,
                followers=int(followers) if isinstance(followers, int | float) else None,
                waiting_minutes=float(waiting) if isinstance(waiting, int | float) else 0.0,
            )
            answer["priority"] = {"score": score, "reasons": [r.as_dict() for r in reasons]}
            return answer

        def handle(batch: list[dict]):
            found = triage_many([d["text"] for d in batch], [d.get("lang") for d in batch])
            return (with_priority(data, one) for data, one in zip(batch, found, strict=True))

        with opened(args.file, command="triage") as source:
            answer_stream(source, sys.stdout, handle)
