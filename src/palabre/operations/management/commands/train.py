"""`palabre train`: train the classifiers from the labelled data sets (and, if asked, people's feedback)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from palabre.commandline import PalabreCommand, add_organisation_option, setup_django


class Command(PalabreCommand):
    help = "Train the classifiers from the labelled data sets."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--datasets", default=str(Path("..") / "shared" / "datasets"))
        parser.add_argument("--out", default="", help="artifact folder (default: the package's nlp/models)")
        parser.add_argument(
            "--include-feedback",
            action="store_true",
            help="add moderators' decisions and people's corrections of sentiment and intent",
        )
        add_organisation_option(parser, "learn only from this organisation's feedback (default: every one)")

    def run(self, args: argparse.Namespace) -> None:
        import json

        from palabre.nlp.training import TRAIN_SETS, train

        datasets = Path(args.datasets)
        if not any((datasets / name / "train.csv").is_file() for name in TRAIN_SETS):
            sys.exit(
                f"palabre train: no labelled data sets in {datasets} (such as {datasets / TRAIN_SETS[0] / 'train.csv'}); "
                "give the folder with --datasets."
            )
        feedback = corrections = None
        if args.organisation and not args.include_feedback:
            sys.exit(
                "palabre train: --organisation chooses whose feedback to learn from; add --include-feedback."
            )
        if args.include_feedback:
            setup_django()
            from palabre.conversations.corrections import for_training
            from palabre.moderation.services import feedback_for_training
            from palabre.orgs.models import Organisation

            organisation = None
            if args.organisation:
                organisation = Organisation.objects.filter(slug=args.organisation).first()
                if organisation is None:
                    sys.exit(f"No organisation with the short name {args.organisation!r}.")
            feedback = feedback_for_training(organisation=organisation)
            corrections = for_training(organisation=organisation)
            print(
                f"palabre train: {len(feedback)} moderation decisions, "
                f"{sum(r['field'] == 'sentiment' for r in corrections)} sentiment and "
                f"{sum(r['field'] == 'intent' for r in corrections)} intent corrections "
                f"({args.organisation or 'every organisation'}).",
                file=sys.stderr,
            )
        out_dir = Path(args.out) if args.out else Path(__file__).resolve().parents[3] / "nlp" / "models"
        report = train(datasets, out_dir, feedback=feedback, corrections=corrections)
        print(json.dumps(report, indent=1, ensure_ascii=False))
