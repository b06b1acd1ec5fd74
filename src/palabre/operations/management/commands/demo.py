"""`palabre demo`: a fresh SQLite database with the demo brand, analysed, then served."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from palabre.commandline import PalabreCommand, setup_django
from palabre.operations.serving import (
    default_processes,
    default_threads,
    demo_data_dir,
    demo_environment,
    failed_task_count,
    migrate,
    run_pending_tasks,
    serve,
)


class Command(PalabreCommand):
    help = "Start a fresh demo brand on SQLite and serve it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--data-dir", default="", help="where the demo database goes")
        parser.add_argument("--no-serve", action="store_true", help="load the demo, then exit")

    def run(self, args: argparse.Namespace) -> None:
        demo_dir = (Path(args.data_dir).expanduser() if args.data_dir else demo_data_dir()).resolve()
        demo_dir.mkdir(parents=True, exist_ok=True)
        # The default database of that data folder: `PALABRE_DATA_DIR=<it>` is all another command needs.
        for stale in [*demo_dir.glob("palabre.sqlite3*"), *demo_dir.glob("demo.sqlite3*")]:
            stale.unlink()
        os.environ.update(demo_environment(demo_dir))
        # Alerts and digests to files, not the console: they would bury the logins.
        os.environ.setdefault("PALABRE_EMAIL_DIR", str(demo_dir / "mails"))
        setup_django()
        migrate()
        from palabre.demo.loader import DEMO_PASSWORD, load_demo

        summary = load_demo()
        print(
            f"Demo brand {summary['organisation']}: {summary['items']} conversation items, analysing...",
            flush=True,
        )
        run_pending_tasks()
        failed = failed_task_count()
        if failed:
            print(f"Warning: {failed} analysis task(s) failed; see the log above.", file=sys.stderr)
        lines = [
            "",
            f"Log in at http://{args.host}:{args.port}/ with one of these (password: {DEMO_PASSWORD}):",
            *(f"  {username:12s} {role}" for username, role in summary["logins"]),
            "",
            "Other palabre commands work on this demo in a shell where you first run:",
            "  export "
            + " ".join(f"{name}={shlex.quote(value)}" for name, value in demo_environment(demo_dir).items()),
        ]
        if not os.environ.get("PALABRE_EMAIL_HOST"):
            lines.append(f"The mails the demo sends are written to {os.environ['PALABRE_EMAIL_DIR']}")
        banner = "\n".join([*lines, ""])
        if args.no_serve:
            print(banner, flush=True)
            return
        serve(
            args.host,
            args.port,
            processes=min(2, default_processes()),
            workers=1,
            threads=default_threads(),
            banner=banner,
        )
