"""`palabre` is a thin wrapper: each of its commands is a Django management command of an app, run
alike through `palabre <name>`, `palabre manage <django name>` and `call_command`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands

from palabre.cli import COMMANDS, main
from palabre.commandline import PalabreCommand

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "palabre"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_palabre_command_is_a_management_command_of_its_app(name):
    app, django_name = COMMANDS[name]
    assert get_commands()[django_name] == f"palabre.{app}", f"{django_name} is not {app}'s command"
    from django.core.management import load_command_class

    assert isinstance(load_command_class(f"palabre.{app}", django_name), PalabreCommand)


def test_djangos_own_commands_keep_their_names():
    """Palabre's `check` and `migrate` have other Django names: Django's system checks and its
    migrate (which the test runner calls) stay Django's."""
    commands = get_commands()
    assert commands["check"] == "django.core"
    assert commands["migrate"] == "django.core"


def test_the_wrapper_defines_no_command_of_its_own():
    tree = ast.parse((PACKAGE / "cli.py").read_text(encoding="utf-8"))
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert not [f for f in functions if f.startswith("cmd_")], functions
    assert sorted(p.parent.name for p in PACKAGE.glob("*/cli.py")) == ["nlp"]  # its pure text work


@pytest.mark.django_db
def test_palabre_manage_and_call_command_run_the_same_command(capsys):
    main(["rotate-keys"])
    through_palabre = capsys.readouterr().out
    call_command("rotate_keys")
    through_django = capsys.readouterr().out
    main(["manage", "rotate_keys"])  # last: Django's command line closes the connections after
    through_manage = capsys.readouterr().out
    assert through_palabre == through_manage == through_django
    assert "Re-encrypted the credentials of 0 channel(s)" in through_palabre


def test_a_bad_option_is_refused_under_the_palabre_name(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["unlock", "--no-such-option"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "palabre unlock: error: unrecognized arguments: --no-such-option" in err
    assert "--verbosity" not in err  # Django's own options are accepted, not advertised
