"""The `palabre` command."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection

from palabre.cli import build_parser, main
from palabre.orgs import crypto
from palabre.orgs.models import Channel, Membership
from palabre.orgs.permissions import Role

SUBCOMMANDS = [
    "serve",
    "worker",
    "migrate",
    "createadmin",
    "rotate-keys",
    "demo",
    "train",
    "check",
    "bench",
    "manage",
]


def palabre(*args: str, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "palabre", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_lists_every_sub_command():
    result = palabre("--help")
    assert result.returncode == 0, result.stderr
    parser_names = set(build_parser()._subparsers._group_actions[0].choices)
    assert set(SUBCOMMANDS) <= parser_names
    for name in parser_names:
        assert f"    {name}" in result.stdout, f"{name} missing from palabre --help"


def test_an_unknown_or_missing_sub_command_is_an_error():
    assert palabre().returncode == 2
    unknown = palabre("explode")
    assert unknown.returncode == 2
    assert "invalid choice" in unknown.stderr


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="uses its own SQLite file: once per suite is enough"
)
def test_migrate_createadmin_and_rotate_keys_on_a_fresh_database(tmp_path):
    env = {
        "PALABRE_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "PALABRE_DATA_DIR": str(tmp_path),
        "PALABRE_ADMIN_PASSWORD": "a-long-admin-password",
    }
    migrated = palabre("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    created = palabre("createadmin", "alice", "--organisation", "Maison Lumière", env=env)
    assert created.returncode == 0, created.stderr
    assert "Created alice, owner of Maison Lumière (maison-lumiere)." in created.stdout
    again = palabre("createadmin", "alice", env=env)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    rotated = palabre("rotate-keys", env=env)
    assert rotated.returncode == 0, rotated.stderr
    assert "0 channel(s)" in rotated.stdout


@pytest.mark.django_db
def test_createadmin_makes_a_superuser_who_owns_the_organisation(capsys):
    main(
        [
            "createadmin",
            "bruno",
            "--email",
            "bruno@example.com",
            "--password",
            "pw-bruno-2024",
            "--organisation",
            "Atelier Bruno",
        ]
    )
    user = get_user_model().objects.get(username="bruno")
    assert user.is_superuser and user.is_staff
    assert user.email == "bruno@example.com"
    assert user.check_password("pw-bruno-2024")
    membership = Membership.objects.get(user=user)
    assert (membership.organisation.slug, membership.role) == ("atelier-bruno", Role.OWNER)
    assert "Created bruno, owner of Atelier Bruno (atelier-bruno)." in capsys.readouterr().out


@pytest.mark.django_db
def test_createadmin_reads_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("PALABRE_ADMIN_PASSWORD", "from-the-env-123")
    main(["createadmin", "chloe"])
    chloe = get_user_model().objects.get(username="chloe")
    assert chloe.check_password("from-the-env-123")
    assert not Membership.objects.filter(user=chloe).exists()


@pytest.mark.django_db
def test_createadmin_refuses_a_taken_username(make_user):
    make_user("taken")
    with pytest.raises(SystemExit) as exit_:
        main(["createadmin", "taken", "--password", "whatever-123"])
    assert "already exists" in str(exit_.value.code)


@pytest.mark.django_db
def test_createadmin_with_a_taken_organisation_creates_nobody(make_org):
    make_org("Déjà Là")
    with pytest.raises((SystemExit, ValidationError)):
        main(["createadmin", "dora", "--password", "pw-dora-2024", "--organisation", "Déjà Là"])
    assert not get_user_model().objects.filter(username="dora").exists()


@pytest.mark.django_db
def test_rotate_keys_re_encrypts_with_the_new_secret_key(settings, org, make_channel, capsys):
    settings.SECRET_KEY = "the-former-secret-key-" + "f" * 30
    settings.SECRET_KEY_FALLBACKS = []
    channel = make_channel(
        org, "bluesky", credentials={"identifier": "b.bsky.social", "app_password": "abcd-efgh"}
    )
    settings.SECRET_KEY = "the-new-secret-key-" + "n" * 30
    settings.SECRET_KEY_FALLBACKS = ["the-former-secret-key-" + "f" * 30]

    main(["rotate-keys"])

    assert "Re-encrypted the credentials of 1 channel(s)" in capsys.readouterr().out
    stored = Channel.objects.get(pk=channel.pk)
    assert crypto.key_id_of(stored.credentials_ciphertext) == crypto.current_key().key_id
    settings.SECRET_KEY_FALLBACKS = []
    assert stored.read_credentials() == {"identifier": "b.bsky.social", "app_password": "abcd-efgh"}


def _refused(name: str):
    raise ValueError(f"{name} is not JSON")


@pytest.mark.parametrize("command", [["check"], ["triage"], ["guardrails", "check"]])
def test_a_json_lines_command_answers_every_line_and_a_missing_file_in_one_line(tmp_path, command):
    lines = tmp_path / "lines.jsonl"
    lines.write_bytes(
        b'{"id": "first", "text": "Merci pour votre aide"}\n'
        + b"[" * 200_000
        + b"\n\n"
        + b'{"id": NaN, "text": "x"}\n'
        + b'{"id": 5,\r "text": "Bonjour"}\r\n'
        + b'{"id": "last", "text": "Tr\xe8s bien"}\n'
    )
    result = palabre(*command, str(lines))
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line, parse_constant=_refused) for line in result.stdout.splitlines()]
    assert [answer["id"] for answer in answers] == ["first", 2, 3, 4, 5, "last"]
    assert "error" not in answers[0] and "error" not in answers[4] and "error" not in answers[5]
    assert answers[1]["error"] == "invalid JSON: nested too deep"
    assert answers[2]["error"].startswith("empty line")
    assert answers[3]["error"] == "invalid JSON: NaN is not a JSON number"

    missing = palabre(*command, str(tmp_path / "absent.jsonl"))
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert (
        missing.stderr
        == f"palabre {' '.join(command)}: cannot read {tmp_path / 'absent.jsonl'}: No such file or directory\n"
    )


def _option_parsers(parser: argparse.ArgumentParser, path: str = "palabre"):
    """Every parser of the command tree, sub-commands' included, with its command line."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _option_parsers(sub, f"{path} {name}")


def test_every_command_spells_the_organisation_option_the_same_way():
    spellings: dict[str, list[str]] = {}
    for path, parser in _option_parsers(build_parser()):
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                continue
            for option in action.option_strings:
                if option.startswith("--org"):
                    spellings.setdefault(option, []).append(path)
    assert set(spellings) == {"--organisation"}, spellings
    assert len(spellings["--organisation"]) >= 7


@pytest.mark.parametrize(
    "argv",
    [
        ["apikey", "create", "--site", "https://blog.example.com/"],
        ["check"],
        ["connectors", "status"],
        ["inbox", "tick"],
        ["listening", "run"],
        ["guardrails", "check"],
    ],
)
def test_the_former_org_spelling_is_still_accepted(argv):
    parser = build_parser()
    assert parser.parse_args([*argv, "--org", "demo"]).organisation == "demo"
    assert parser.parse_args([*argv, "--organisation", "demo"]).organisation == "demo"


def test_apikey_still_requires_an_organisation(capsys):
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["apikey", "create", "--site", "https://blog.example.com/"])
    assert stopped.value.code == 2
    assert "--organisation" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20"])
def test_serving_beyond_this_machine_without_allowed_hosts_says_why_others_get_400(host, monkeypatch):
    from palabre.cli import allowed_hosts_hint

    monkeypatch.delenv("PALABRE_ALLOWED_HOSTS", raising=False)
    hint = allowed_hosts_hint(host)
    assert "PALABRE_ALLOWED_HOSTS" in hint
    assert "400" in hint
    assert "127.0.0.1, localhost" in hint


def test_no_allowed_hosts_note_on_localhost_or_once_the_setting_is_given(monkeypatch):
    from palabre.cli import allowed_hosts_hint

    monkeypatch.delenv("PALABRE_ALLOWED_HOSTS", raising=False)
    assert allowed_hosts_hint("127.0.0.1") == ""
    monkeypatch.setenv("PALABRE_ALLOWED_HOSTS", "palabre.example.com")
    assert allowed_hosts_hint("0.0.0.0") == ""
