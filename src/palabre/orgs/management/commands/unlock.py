"""`palabre unlock`: lift the sign-in lock of accounts or of an address, and an address's API key block."""

from __future__ import annotations

import argparse
import sys

from palabre.commandline import PalabreCommand, setup_django


class Command(PalabreCommand):
    help = "Lift a sign-in lock (wrong passwords) or an address's API key block."

    def add_arguments(self, parser) -> None:
        parser.add_argument("usernames", nargs="*", metavar="USERNAME", help="accounts to unlock")
        parser.add_argument(
            "--address", default="", help="also unlock this IP address (sign-in and API keys)"
        )

    def run(self, args: argparse.Namespace) -> None:
        if not args.usernames and not args.address:
            sys.exit("Name the accounts to unlock, or give --address.")
        setup_django()
        from palabre.orgs.throttle import unlock

        try:
            done = unlock(usernames=args.usernames, address=args.address)
        except ValueError:
            sys.exit(f"--address: {args.address!r} is not an IP address.")
        for line in done:
            print(line)
