"""A Redis server for the shared-state tests: the one scripts/test.sh started
(PALABRE_TEST_REDIS_URL), else a throwaway one of our own when Debian's redis-server is installed."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("PALABRE_TEST_REDIS_URL")
    if url:
        yield url
        return
    server = shutil.which("redis-server") or shutil.which("valkey-server")
    if server is None:
        pytest.skip("needs Redis: set PALABRE_TEST_REDIS_URL or install redis-server")
    folder = tempfile.mkdtemp(prefix="palabre-redis-")
    port = _free_port()
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            folder,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
