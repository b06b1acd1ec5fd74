"""A real IRC server (Debian's ngircd) on loopback, on a free port, with a generated config."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass

import pytest

OPERATOR = ("warden", "warden-pass")


@dataclass(frozen=True)
class IrcServer:
    host: str
    port: int
    # An IRC operator's name and password (OPER), to KILL a client.
    operator: tuple[str, str] = OPERATOR


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def ngircd(tmp_path_factory):
    yield from _serve(tmp_path_factory)


@pytest.fixture(scope="module")
def ngircd_with_password(tmp_path_factory):
    """A server that asks every client for a password (PASS), as private servers do."""
    yield from _serve(tmp_path_factory, password="server-secret")


def _serve(tmp_path_factory, password: str = ""):
    binary = shutil.which("ngircd") or ("/usr/sbin/ngircd" if os.path.exists("/usr/sbin/ngircd") else None)
    if binary is None:
        pytest.skip("ngircd is not installed (Debian package ngircd; scripts/test.sh installs it)")
    folder = tmp_path_factory.mktemp("ngircd")
    port = _free_port()
    config = folder / "ngircd.conf"
    password_line = f"Password = {password}\n" if password else ""
    config.write_text(
        "[Global]\n"
        "Name = irc.palabre.test\n"
        "Info = Palabre test server\n"
        "AdminInfo1 = Palabre tests\n"
        "AdminInfo2 = loopback\n"
        "AdminEMail = tests@palabre.invalid\n"
        "Listen = 127.0.0.1\n"
        f"{password_line}"
        f"Ports = {port}\n"
        'MotdPhrase = "Palabre tests"\n'
        "[Limits]\n"
        "MaxConnectionsIP = 0\n"
        "MaxNickLength = 30\n"
        "MaxPenaltyTime = 0\n"
        "[Options]\n"
        "Ident = no\n"
        "PAM = no\n"
        "DNS = no\n"
        "[Operator]\n"
        f"Name = {OPERATOR[0]}\n"
        f"Password = {OPERATOR[1]}\n"
    )
    process = subprocess.Popen(
        [binary, "--nodaemon", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    for line in process.stdout:  # its log on the console: wait for "ready" without sleeping
        seen.append(line)
        if "ready" in line or len(seen) > 200:
            break
    if not any("Now listening" in line for line in seen):
        process.kill()
        pytest.fail("ngircd did not start:\n" + "".join(seen))
    # Its log keeps coming: read it, so that a full pipe never stops the server.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    yield IrcServer("127.0.0.1", port)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
