"""A newcomer's first hour: `palabre demo` runs, its logins stay on screen, and the commands of the
README work beside it with the environment it prints (real processes, as a person types them)."""

from __future__ import annotations

import os
import queue
import shlex
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the demo is SQLite in its own folder: once per suite is enough"
)


def clean_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PALABRE_")}
    return {**env, **extra}


def palabre(*args: str, env: dict, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "palabre", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_readme_commands_work_beside_a_running_demo(tmp_path):
    home = tmp_path / "home"
    env = clean_environment(XDG_DATA_HOME=str(home))
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "palabre", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        # Read in a thread, so that a demo that hangs fails the test instead of blocking it.
        received: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [received.put(x) for x in demo.stdout], daemon=True).start()
        for _line_or_idle_second in range(600):
            try:
                line = received.get(timeout=1)
            except queue.Empty:
                if demo.poll() is not None:
                    break  # it stopped: what it printed says why
                continue
            lines.append(line.rstrip("\n"))
            if line.startswith("The mails the demo sends"):
                break
        output = "\n".join(lines)
        assert any(line.startswith("  export ") for line in lines), output
        # The logins come after the server's start line: the last thing on screen.
        served = next(i for i, line in enumerate(lines) if line.startswith("Palabre is served at"))
        logins = next(i for i, line in enumerate(lines) if line.startswith("Log in at"))
        assert served < logins, output
        assert any(line.startswith("  camille ") for line in lines[logins:]), output

        export = next(line for line in lines if line.startswith("  export "))
        printed = dict(pair.split("=", 1) for pair in shlex.split(export.removeprefix("  export ")))
        assert Path(printed["PALABRE_DATA_DIR"]) == home / "palabre" / "demo"
        beside = clean_environment(XDG_DATA_HOME=str(home), **printed)

        created = palabre(
            "apikey", "create", "--organisation", "demo", "--site", "https://blog.example.com/", env=beside
        )
        assert created.returncode == 0, created.stderr
        assert len(created.stdout.strip()) >= 12
        checked = palabre(
            "check",
            "--organisation",
            "demo",
            env=beside,
            stdin='{"id": 1, "text": "Merci pour la lampe !"}\n',
        )
        assert checked.returncode == 0, checked.stderr
        assert '"action"' in checked.stdout
        # The mails went to files, not over the logins.
        assert not any(line.startswith("Subject:") for line in lines[logins:]), output
    finally:
        demo.terminate()
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()


def test_a_command_on_a_database_never_migrated_says_what_to_do(tmp_path):
    env = clean_environment(PALABRE_DATA_DIR=str(tmp_path))
    refused = palabre(
        "apikey", "create", "--organisation", "demo", "--site", "https://blog.example.com/", env=env
    )
    assert refused.returncode == 1
    assert "has no Palabre tables: run `palabre migrate`" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "demo" not in refused.stderr.replace("--organisation demo", "")


def test_with_a_demo_beside_the_message_gives_the_demo_s_environment(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "palabre.sqlite3").touch()
    env = clean_environment(PALABRE_DATA_DIR=str(tmp_path))
    refused = palabre("check", "--organisation", "demo", env=env, stdin='{"text": "bonjour"}\n')
    assert refused.returncode == 1
    assert f"export PALABRE_DATA_DIR={tmp_path / 'demo'}" in refused.stderr, refused.stderr
