"""`palabre serve`: the web UI and API (granian), with task workers beside it."""

from __future__ import annotations

import argparse

from palabre.commandline import PalabreCommand, setup_django
from palabre.operations.serving import default_processes, default_threads, migrate, serve


class Command(PalabreCommand):
    help = "Serve the web UI and API (granian), with a task worker beside it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--processes",
            type=int,
            default=default_processes(),
            help="web server processes (default: one per CPU, at most 8)",
        )
        parser.add_argument(
            "--threads", type=int, default=default_threads(), help="threads of each web server process"
        )
        parser.add_argument(
            "--workers", type=int, default=1, help="task worker processes started beside (0: none)"
        )
        parser.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")

    def run(self, args: argparse.Namespace) -> None:
        setup_django()
        if not args.no_migrate:
            migrate()
        serve(args.host, args.port, processes=args.processes, workers=args.workers, threads=args.threads)
