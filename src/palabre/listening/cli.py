"""`palabre listening`: poll the listening sources, detect spikes, retry alert deliveries (for cron)."""

from __future__ import annotations

import argparse
import json


def register_commands(add) -> None:
    from palabre.cli import add_organisation_option

    listening = add(
        "listening",
        cmd_listening,
        "Poll due listening sources, detect crisis spikes and retry pending alert deliveries.",
    )
    listening.add_argument(
        "action",
        choices=["poll", "detect", "deliver", "run"],
        help="poll: due sources; detect: spikes of every organisation; deliver: pending alerts; run: all three",
    )
    listening.add_argument("--force", action="store_true", help="poll every active source, due or not")
    add_organisation_option(listening, "only this organisation (its short name)")


def cmd_listening(args: argparse.Namespace) -> None:
    from palabre.cli import _setup_django

    _setup_django()
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
