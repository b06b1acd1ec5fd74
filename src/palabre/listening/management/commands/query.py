"""`palabre query`: try a listening query on texts without a database (see docs/commands.md); the
work is `palabre.nlp.cli`'s, pure text."""

from __future__ import annotations

import argparse

from palabre.commandline import PalabreCommand


class Command(PalabreCommand):
    help = "Test a listening query on texts read from stdin, one per line, or check its syntax."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "action", choices=["test", "parse"], help="test: match stdin's lines; parse: check"
        )
        parser.add_argument("query", help="the query, e.g. '(renault OR peugeot) AND panne'")
        parser.add_argument("--lang", default=None, help="language of every text, for lang: filters")
        parser.add_argument("--source", default=None, help="source of every text, for source: filters")
        parser.add_argument("--domain", default=None, help="site of every text, for domain: filters")
        parser.add_argument(
            "--json", action="store_true", help="one JSON object per line instead of 1/0 lines"
        )

    def run(self, args: argparse.Namespace) -> None:
        from palabre.nlp.cli import cmd_query

        cmd_query(args)
