"""What every app's sub-commands of `palabre` share, on the lowest floor so that an app's `cli.py`
need not import the top-level `palabre.cli` (which imports the apps)."""

from __future__ import annotations

import argparse
import os


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
