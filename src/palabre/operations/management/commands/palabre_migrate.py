"""`palabre migrate`: create or upgrade the database tables; `--check` lists what is to apply.

Django's own `migrate` keeps its name: this one is `palabre_migrate` to Django (`palabre manage
palabre_migrate`), `migrate` to `palabre`.
"""

from __future__ import annotations

import argparse
import sys

from palabre.commandline import PalabreCommand, setup_django
from palabre.operations.serving import migrate


class Command(PalabreCommand):
    help = "Create or upgrade the database tables."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="list the migrations to apply and exit 1 if any; apply nothing",
        )

    def run(self, args: argparse.Namespace) -> None:
        setup_django()
        if args.check:
            from palabre.backup import pending_migrations

            pending = pending_migrations()
            for name in pending:
                print(name)
            print(f"{len(pending)} migration(s) to apply." if pending else "No migrations to apply.")
            sys.exit(1 if pending else 0)
        migrate(verbosity=1)
