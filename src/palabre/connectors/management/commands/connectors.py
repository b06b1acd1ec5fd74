"""`palabre connectors`: the connections' health, and their periodic work run by hand (or by cron)."""

from __future__ import annotations

import argparse
import json
import sys

from palabre.commandline import PalabreCommand, add_organisation_option, setup_django


class Command(PalabreCommand):
    help = "Channels' connections: health, and pulling and delivering what is due (for cron or by hand)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["status", "tick", "pull"], help="what to do")
        add_organisation_option(parser, "status: only this organisation (its short name)")
        parser.add_argument("--channel", type=int, default=0, help="pull: the channel's id")

    def run(self, args: argparse.Namespace) -> None:
        setup_django()
        if args.action == "status":
            _status(args.organisation)
        elif args.action == "tick":
            _tick()
        else:
            if not args.channel:
                sys.exit("palabre connectors pull: give --channel ID")
            from palabre.connectors.sync import pull_channel

            print(json.dumps(pull_channel(args.channel, force=True)), flush=True)


def _status(org_slug: str) -> None:
    from palabre.connectors.api import _health_out
    from palabre.connectors.queries import channel_health
    from palabre.orgs.models import Organisation
    from palabre.orgs.services import Actor

    organisations = Organisation.objects.all()
    if org_slug:
        organisations = organisations.filter(slug=org_slug)
        if not organisations.exists():
            sys.exit(f"palabre connectors: no organisation {org_slug!r}")
    for organisation in organisations:
        for row in channel_health(Actor.palabre(organisation)):
            line = {"organisation": organisation.slug, **_health_out(row)}
            print(json.dumps(line, default=str, ensure_ascii=False), flush=True)


def _tick() -> None:
    """What the periodic task does, here and now: due deliveries, due pulls, token alerts."""
    from palabre.connectors.alerts import check_token_alerts
    from palabre.connectors.services.delivery import deliver, due_action_ids
    from palabre.connectors.sync import due_channel_ids, pull_channel

    outcomes: dict[str, int] = {}
    for action_id in due_action_ids():
        step = deliver(action_id)
        outcomes[step.outcome] = outcomes.get(step.outcome, 0) + 1
    pulled = [pull_channel(channel_id) for channel_id in due_channel_ids()]
    summary = {
        "deliveries": outcomes,
        "pulls": len(pulled),
        "items": sum(p.get("items", 0) for p in pulled),
        "failed_pulls": sum(1 for p in pulled if p.get("outcome") == "failed"),
        "token_alerts": check_token_alerts(),
    }
    print(json.dumps(summary), flush=True)
