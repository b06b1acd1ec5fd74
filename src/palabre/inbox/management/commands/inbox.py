"""`palabre inbox tick|digest`: the inbox's scheduled work, for cron or a systemd timer."""

from __future__ import annotations

import argparse
import json

from palabre.commandline import PalabreCommand, add_organisation_option, setup_django


class Command(PalabreCommand):
    help = (
        "Inbox upkeep: `tick` re-ranks waiting threads and warns of overdue responses; "
        "`digest` sends the morning digest."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["tick", "digest"])
        add_organisation_option(parser, "only this organisation (its short name)")

    def run(self, args: argparse.Namespace) -> None:
        setup_django()
        from palabre.inbox import services
        from palabre.orgs.models import Organisation

        organisations = Organisation.objects.all()
        if args.organisation:
            organisations = organisations.filter(slug=args.organisation)
            if not organisations.exists():
                raise SystemExit(f"No organisation with the short name {args.organisation!r}.")
        for organisation in organisations:
            if args.action == "tick":
                result = {
                    "refreshed": services.refresh_open(organisation),
                    "warned": services.warn_breaches(organisation),
                }
            else:
                result = {"digests": services.send_digest(organisation)}
            print(json.dumps({"organisation": organisation.slug, **result}))
