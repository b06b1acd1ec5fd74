"""What every app's commands share, on the lowest floor so that an app's management commands need not
import the top-level `palabre.cli` (which only dispatches to them)."""

from __future__ import annotations

import argparse
import os

from django.core.management.base import BaseCommand


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palabre.settings")
    import django
    from django.apps import apps

    # Once is enough: setting up again would rebuild the log handlers on whatever sys.stderr is
    # at that moment (a command run in-process, by a test or a script, with its output captured).
    if not apps.ready:
        django.setup()


def add_organisation_option(
    parser: argparse.ArgumentParser, help: str, *, required: bool = False, metavar: str = "SLUG"
) -> None:
    """Every command names an organisation with `--organisation`; `--org`, the spelling some commands
    used before, is still accepted (hidden from the help) so that scripts keep working."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--organisation", dest="organisation", default="", metavar=metavar, help=help)
    group.add_argument("--org", dest="organisation", default="", metavar=metavar, help=argparse.SUPPRESS)


class PalabreCommand(BaseCommand):
    """A command of `palabre` written as a Django management command of its app: `palabre <name>`
    (the thin wrapper in `palabre.cli`), `palabre manage <name>` and `call_command(name, ...)` run it
    alike. A subclass gives `help`, `add_arguments(parser)` and `run(args)`, `args` being the parsed
    options as a namespace. Django's own options (verbosity, settings...) are accepted and kept out
    of the help; no system checks run first (`palabre check` and `palabre query` need no database)."""

    requires_system_checks: list[str] = []
    suppressed_base_arguments = {
        "--version",
        "--verbosity",
        "--settings",
        "--pythonpath",
        "--traceback",
        "--no-color",
        "--force-color",
        "--skip-checks",
    }

    def handle(self, *args, **options) -> None:
        self.run(argparse.Namespace(**options))

    def run(self, args: argparse.Namespace) -> None:
        raise NotImplementedError(f"{type(self).__module__} gives no run()")
