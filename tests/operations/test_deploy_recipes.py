"""The deployment recipes (docs/deploy.md), checked as far as a machine without a Docker daemon
allows: the compose file parses and every Palabre command it runs exists with those options, the
image runs as an unprivileged user with the models inside, and the systemd units' commands exist
(and pass `systemd-analyze verify` where systemd is installed)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from palabre.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
SHELL_BREAKS = {";", "&&", "||", "|", "&", "(", ")", "\n"}


def palabre_commands(shell: str) -> list[list[str]]:
    """Every `palabre ...` (or `/path/to/palabre ...`) command line in a shell text."""
    lexer = shlex.shlex(shell, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    commands, current = [], []
    for token in lexer:
        if token in SHELL_BREAKS:
            commands.append(current)
            current = []
        else:
            current.append(token)
    commands.append(current)
    found = []
    for words in commands:
        for index, word in enumerate(words):
            if word == "palabre" or word.endswith("/palabre"):
                found.append(words[index + 1 :])
                break
    return found


def assert_palabre_accepts(argv: list[str], where: str) -> None:
    parser = build_parser()
    try:
        parser.parse_args(argv)
    except SystemExit as error:  # argparse refuses an unknown command, option or choice
        pytest.fail(f"{where}: `palabre {' '.join(argv)}` is not a Palabre command line ({error})")


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_the_compose_file_runs_postgresql_redis_web_workers_and_the_scheduler():
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "scheduler"} <= set(services)
    palabre_services = [
        name for name, service in services.items() if service.get("image") == "palabre:latest"
    ]
    assert sorted(palabre_services) == ["migrate", "scheduler", "web", "worker"]
    for name in palabre_services:
        environment = services[name]["environment"]
        assert environment["PALABRE_DATABASE_URL"].startswith("postgres://")
        assert environment["PALABRE_REDIS_URL"].startswith("redis://redis:")
        assert "data:/data" in services[name]["volumes"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["web"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    # Every variable the containers are given is a Palabre setting (or the database's own).
    env_example = (DEPLOY / "palabre.env.example").read_text(encoding="utf-8")
    names = re.findall(r"^([A-Z0-9_]+)=", env_example, flags=re.MULTILINE)
    from palabre import config

    assert names and set(names) <= set(config.SETTINGS), set(names) - set(config.SETTINGS)


def test_every_palabre_command_of_the_compose_file_exists():
    checked = 0
    for name, service in compose()["services"].items():
        if service.get("image") != "palabre:latest":
            continue
        command = service["command"]
        if service.get("entrypoint") == ["sh", "-c"]:
            # Compose writes a shell's $ as $$.
            for argv in palabre_commands(" ".join(command).replace("$$", "$")):
                assert_palabre_accepts(argv, f"compose service {name}")
                checked += 1
        else:
            assert_palabre_accepts(command, f"compose service {name}")
            checked += 1
    assert checked >= 4  # migrate, web, worker, inbox digest (the workers run the periodic jobs)


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [tuple(line.split(None, 1)) for line in lines]


def test_the_image_runs_as_an_unprivileged_user_with_palabre_commands():
    instructions = dockerfile_instructions()
    final_stage = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    users = [value for op, value in final_stage if op == "USER"]
    assert users and users[-1] not in {"root", "0", "0:0"}
    entrypoint = json.loads(next(value for op, value in final_stage if op == "ENTRYPOINT"))
    assert entrypoint == ["palabre"]
    assert_palabre_accepts(
        json.loads(next(value for op, value in final_stage if op == "CMD")), "Dockerfile CMD"
    )
    # Installed as a package (not editable): the models go in as package data.
    assert any(op == "RUN" and "pip install ." in value for op, value in instructions)
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "nlp/models/*" in package_data["palabre"]
    assert list((ROOT / "src" / "palabre" / "nlp" / "models").glob("*.npz"))
    # Only what the build copies is sent to the daemon.
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "*" in ignored and "!src/" in ignored


def test_the_image_can_draw_the_pdf_report():
    """WeasyPrint loads Pango when imported and the slim image has neither Pango nor a font: without
    them every PDF download and every report mail's attachment failed in the container."""
    instructions = dockerfile_instructions()
    final_stage = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    installed = " ".join(value for op, value in final_stage if op == "RUN" and "apt-get install" in value)
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core", "fonts-noto-color-emoji"):
        assert package in installed.split(), package
    systemd_recipe = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert re.search(r"apt install [^\n]*libpango-1\.0-0 libpangoft2-1\.0-0", systemd_recipe)


def unit_values(path: Path, key: str) -> list[str]:
    return [
        line.split("=", 1)[1].strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"{key}=")
    ]


@pytest.mark.parametrize("unit", UNITS, ids=lambda path: path.name)
def test_each_systemd_unit_runs_palabre_commands_that_exist(unit):
    commands = unit_values(unit, "ExecStart") + unit_values(unit, "ExecStartPre")
    assert commands
    for line in commands:
        (argv,) = palabre_commands(line.replace("%i", "1").replace("%H", "host"))
        assert_palabre_accepts(argv, unit.name)
    assert unit_values(unit, "User") == ["palabre"]


def test_every_service_with_a_timer_and_every_timer_with_a_service():
    timers = {path.stem for path in (DEPLOY / "systemd").glob("*.timer")}
    assert timers == {"palabre-inbox-digest"}  # the rest of the periodic work: the workers' schedule
    assert timers <= {path.stem for path in UNITS}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_units(tmp_path):
    """`systemd-analyze verify`, with the units pointed at this machine's palabre command."""
    palabre = Path(sys.executable).parent / "palabre"
    assert palabre.exists()
    for path in (DEPLOY / "systemd").iterdir():
        text = path.read_text(encoding="utf-8").replace("/opt/palabre/bin/palabre", str(palabre))
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    units = sorted(str(path) for path in tmp_path.iterdir())
    run = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True, timeout=60
    )
    problems = [
        line
        for line in (run.stdout + run.stderr).splitlines()
        # this machine (a container) may have no unit for the databases the units start after
        if line.strip() and "postgresql.service" not in line and "redis-server.service" not in line
    ]
    assert run.returncode == 0 and problems == [], "\n".join(problems)


def test_the_compose_files_rq_option_uncommented_queues_the_tasks_on_a_redis_that_keeps_them():
    """The option is written commented out (the database backend is the default): once its lines
    are uncommented, as the file says, every Palabre container queues its tasks on Redis, and Redis
    writes them to disk, in a volume."""
    assert "PALABRE_TASKS_BACKEND" not in compose()["services"]["web"]["environment"]
    lines = []
    for line in (DEPLOY / "compose.yaml").read_text(encoding="utf-8").splitlines():
        if line.rstrip().endswith("# without rq"):
            continue
        lines.append(line.replace("# (rq) ", "", 1) if line.lstrip().startswith("# (rq) ") else line)
    with_rq = yaml.safe_load("\n".join(lines))
    services = with_rq["services"]
    for name in ("migrate", "web", "worker", "scheduler"):
        assert services[name]["environment"]["PALABRE_TASKS_BACKEND"] == "rq"
        assert services[name]["environment"]["PALABRE_REDIS_URL"].startswith("redis://redis:")
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert services["redis"]["volumes"] == ["redis:/data"] and "redis" in with_rq["volumes"]
    from palabre import config

    assert "`rq`" in config.TASKS_BACKEND.help
    assert "#PALABRE_TASKS_BACKEND=rq" in (DEPLOY / "palabre.env.example").read_text(encoding="utf-8")
