"""`palabre eval`: score the classifiers on every labelled set beside a plain baseline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from palabre.commandline import PalabreCommand


class Command(PalabreCommand):
    help = "Score the classifiers on every labelled set beside a plain baseline."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--datasets", default=str(Path("..") / "shared" / "datasets"))
        parser.add_argument("--split", default="test", choices=["test", "dev"])
        parser.add_argument("--output", default="", help="also write the figures as Markdown to this file")
        parser.add_argument("--only", default="", help="comma-separated set names (default: every set)")
        parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")

    def run(self, args: argparse.Namespace) -> None:
        from dataclasses import replace

        from palabre.moderation.engine import ModerationContext, moderate_many
        from palabre.nlp.evaluation import evaluate, to_markdown, to_text
        from palabre.nlp.triage import triage_many

        def moderate(texts: list[str], lang: str) -> list[dict[str, float]]:
            contexts = [replace(ModerationContext(), lang=lang)] * len(texts)
            return [d.scores for d in moderate_many(texts, contexts)]

        def triage(texts: list[str], lang: str) -> list[tuple[str, str]]:
            return [(t.sentiment, t.intent.label) for t in triage_many(texts, [lang] * len(texts))]

        if not Path(args.datasets).is_dir():
            sys.exit(f"palabre eval: no data sets folder {args.datasets}; give it with --datasets.")
        only = set(args.only.split(",")) if args.only else None
        reports = evaluate(
            Path(args.datasets),
            moderate=moderate,
            triage=triage,
            split=args.split,
            resamples=args.resamples,
            only=only,
            progress=lambda name: print(f"scoring {name}...", file=sys.stderr, flush=True),
        )
        print(to_text(reports))
        if args.output:
            header = (
                "# Quality of Palabre's classifiers\n\n"
                f"Written by `palabre eval --split {args.split}`: every labelled set of the shared data sets, "
                "Palabre (`palabre check` / `palabre triage`) beside the plain baseline trained in the same run "
                "(TF-IDF word 1-2-grams + char_wb 2-5-grams, logistic regression C=4, balanced classes, fitted on "
                "the train split named in `palabre/nlp/evaluation.py`), with 95% bootstrap intervals "
                f"({args.resamples} resamples, paired). Toxic sets are scored by the highest of toxicity, "
                "insult, identity_attack and threat; spam at 0.5. `use: eval` sets are never fitted.\n"
            )
            Path(args.output).write_text(to_markdown(reports, header=header), encoding="utf-8")
