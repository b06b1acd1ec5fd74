"""`palabre listening`: poll the listening sources, detect spikes, retry alert deliveries (for cron)."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from datetime import datetime, timedelta

from palabre.commandline import PalabreCommand, add_organisation_option, setup_django


class Command(PalabreCommand):
    help = "Poll due listening sources, detect crisis spikes and retry pending alert deliveries."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "action",
            choices=["poll", "detect", "deliver", "run"],
            help="poll: due sources; detect: spikes of every organisation (or of FILE); deliver: pending alerts; "
            "run: all three",
        )
        parser.add_argument(
            "file",
            nargs="?",
            help="with detect: a CSV of timestamp,value rows in time order ('-': standard input); "
            "writes one JSON line per alarm",
        )
        parser.add_argument(
            "--lang", help="with FILE: the language of the explanations (default: PALABRE_LANGUAGE)"
        )
        parser.add_argument("--force", action="store_true", help="poll every active source, due or not")
        add_organisation_option(parser, "only this organisation (its short name)")

    def run(self, args: argparse.Namespace) -> None:
        setup_django()
        if args.file is not None:
            if args.action != "detect":
                sys.exit("palabre listening: FILE goes with detect only")
            detect_file(args.file, language=args.lang)
            return
        from palabre.listening.crisis import detect_for_organisation
        from palabre.listening.delivery import retry_pending_deliveries
        from palabre.listening.models import ListeningSource
        from palabre.listening.services import due_sources, poll_source
        from palabre.orgs.models import Organisation

        organisations = Organisation.objects.all()
        if args.organisation:
            organisations = organisations.filter(slug=args.organisation)
        report: dict = {}
        if args.action in ("poll", "run"):
            sources = (
                ListeningSource.objects.filter(active=True).exclude(kind="own_channels")
                if args.force
                else due_sources()
            )
            sources = sources.filter(organisation__in=organisations)
            report["polled"] = [poll_source(source, force=args.force) for source in sources]
        if args.action in ("detect", "run"):
            report["alerts"] = [alert.pk for org in organisations for alert in detect_for_organisation(org)]
        if args.action in ("deliver", "run"):
            report["deliveries_retried"] = retry_pending_deliveries()
        print(json.dumps(report, default=str, ensure_ascii=False))


def detect_file(name: str, *, language: str | None = None) -> None:
    """Stream a `timestamp,value` CSV through the crisis detector: one JSON line per alarm, written
    as soon as it is known (at the end of the row that completes it)."""
    from django.conf import settings
    from django.utils import translation

    from palabre.listening.detection import StreamingDetector
    from palabre.listening.explanations import describe

    if language and language not in dict(settings.LANGUAGES):
        sys.exit(f"palabre listening detect: --lang must be one of {', '.join(dict(settings.LANGUAGES))}")
    try:
        handle = sys.stdin if name == "-" else open(name, encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as error:
        sys.exit(f"palabre listening detect: cannot read {name}: {error.strerror}")
    detector = StreamingDetector()
    with translation.override(language or settings.LANGUAGE_CODE), handle:
        reader = csv.reader(handle)
        for number, row in enumerate(reader, start=1):
            if not row or (number == 1 and row[0].strip().lower() == "timestamp"):
                continue
            try:
                moment = datetime.fromisoformat(row[0].strip())
                value = float(row[1])
                if value < 0 or value != value:
                    raise ValueError
                alarms = detector.push(moment, round(value))
            except (ValueError, IndexError):
                sys.exit(
                    f"palabre listening detect: line {number}: expected timestamp,value in time order "
                    f"(an ISO 8601 time and a count >= 0), got {','.join(row)[:80]!r}"
                )
            except TypeError:
                sys.exit(f"palabre listening detect: line {number}: times with and without a zone are mixed")
            for known, alarm, warmup in alarms:
                record = {
                    "timestamp": known.isoformat(sep=" "),
                    "score": alarm.score,
                    "explanation": describe(alarm, warmup),
                    "start": alarm.start.isoformat(sep=" "),
                    "minutes": int(alarm.width / timedelta(minutes=1)),
                    "observed": alarm.observed,
                    "expected": alarm.expected,
                    "warmup": warmup,
                }
                try:
                    print(json.dumps(record, ensure_ascii=False), flush=True)
                except BrokenPipeError:  # the reader has had enough (`| head`): stop quietly
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # as Python's docs advise
                    return
