"""The `palabre` command: a thin wrapper over the apps' Django management commands.

Each `palabre <name>` is the management command of an app (`<app>/management/commands/`), run with
the same options through `palabre <name>`, `palabre manage <django name>` or `call_command`. Each is
documented in docs/commands.md (a test checks it).
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys

from palabre.commandline import PalabreCommand, setup_django
from palabre.operations.serving import allowed_hosts_hint, demo_data_dir, demo_environment

__all__ = ["COMMANDS", "allowed_hosts_hint", "build_parser", "load_command", "main"]

# `palabre` name -> (app, its Django name); the Django name differs only where Django has a command
# of that name already (check, migrate) or where a dash is not a Python name. In `--help` order.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("operations", "serve"),
    "worker": ("operations", "worker"),
    "migrate": ("operations", "palabre_migrate"),
    "backup": ("operations", "backup"),
    "restore": ("operations", "restore"),
    "createadmin": ("orgs", "createadmin"),
    "apikey": ("moderation", "apikey"),
    "unlock": ("orgs", "unlock"),
    "rotate-keys": ("orgs", "rotate_keys"),
    "demo": ("operations", "demo"),
    "train": ("operations", "train"),
    "eval": ("operations", "eval"),
    "check": ("moderation", "moderate"),
    "triage": ("inbox", "triage"),
    "bench": ("operations", "bench"),
    "query": ("listening", "query"),
    "connectors": ("connectors", "connectors"),
    "irc-bot": ("connectors", "irc_bot"),
    "inbox": ("inbox", "inbox"),
    "listening": ("listening", "listening"),
    "guardrails": ("publishing", "guardrails"),
    "contest": ("programmes", "contest"),
    "report": ("analytics", "report"),
}
MANAGE_HELP = "Run a Django management command (advanced)."


def load_command(name: str) -> PalabreCommand:
    """The management command behind `palabre <name>`, imported without setting Django up: the
    commands that need no database (check, triage, query, train, eval) start without it."""
    app, django_name = COMMANDS[name]
    module = importlib.import_module(f"palabre.{app}.management.commands.{django_name}")
    return module.Command()


def build_parser() -> argparse.ArgumentParser:
    """`palabre`'s parser: one sub-command per management command, with that command's options
    (for `palabre --help`, the documentation's test and the deployment recipes' checks)."""
    parser = argparse.ArgumentParser(prog="palabre", description="Self-hosted community management.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        command = load_command(name)
        sub = commands.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(sub)
        if name == "bench":
            commands.add_parser("manage", help=MANAGE_HELP, description=MANAGE_HELP).add_argument(
                "rest", nargs=argparse.REMAINDER
            )
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in {*COMMANDS, "manage"}:
        build_parser().parse_args(argv)  # the help, or argparse's error for an unknown command
        return
    name, rest = argv[0], argv[1:]
    try:
        if name == "manage":
            _manage(rest)
        else:
            _run(name, rest)
    except Exception as error:
        if not _is_missing_table(error):
            raise
        sys.exit(_missing_tables_message())


def _run(name: str, argv: list[str]) -> None:
    """What Django's `run_from_argv` does, under `palabre <name>`'s own name, leaving the database
    connections open (a command run in-process, by a test or a script, goes on using them)."""
    from django.core.management.base import CommandError, handle_default_options

    command = load_command(name)
    parser = command.create_parser("palabre", name)
    parser.called_from_command_line = True  # a bad option: usage and exit status 2, as argparse does
    options = parser.parse_args(argv)
    handle_default_options(options)
    cmd_options = vars(options)
    args = cmd_options.pop("args", ())
    try:
        command.execute(*args, **cmd_options)
    except CommandError as error:
        sys.exit(f"palabre {name}: {error}")


def _manage(argv: list[str]) -> None:
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["palabre manage", *argv])


def _is_missing_table(error: Exception) -> bool:
    """SQLite's "no such table" or PostgreSQL's "relation ... does not exist": a database never migrated."""
    text = str(error)
    return type(error).__name__ in ("OperationalError", "ProgrammingError") and (
        "no such table" in text or ("relation" in text and "does not exist" in text)
    )


def _missing_tables_message() -> str:
    from django.db import connection

    name = connection.settings_dict.get("NAME")
    lines = [f"palabre: the database {name} has no Palabre tables: run `palabre migrate` to create them."]
    demo = demo_data_dir() / "palabre.sqlite3"
    if demo.exists() and str(demo) != str(name):
        lines.append(
            "To work on the demo's database instead, first run:\n  export "
            + " ".join(f"{k}={shlex.quote(v)}" for k, v in demo_environment(demo.parent).items())
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
