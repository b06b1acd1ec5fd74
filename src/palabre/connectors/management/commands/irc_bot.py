"""`palabre irc-bot --channel ID`: the long-lived bot of an IRC channel (IRC keeps no history)."""

from __future__ import annotations

import argparse
import sys

from palabre.commandline import PalabreCommand, setup_django


class Command(PalabreCommand):
    help = "Keep an IRC channel's bot connected: store what is said, send the queued replies and bans."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--channel", type=int, required=True, help="the IRC channel's id in Palabre")

    def run(self, args: argparse.Namespace) -> None:
        setup_django()
        from palabre.connectors.base import ConnectorError
        from palabre.connectors.irc import run_bot
        from palabre.orgs.models import Channel

        channel = Channel.objects.filter(pk=args.channel, platform="irc").first()
        if channel is None:
            sys.exit(f"palabre irc-bot: no IRC channel with id {args.channel}")
        try:
            run_bot(channel)
        except KeyboardInterrupt:
            pass
        except ConnectorError as error:
            sys.exit(f"palabre irc-bot: {error}")
