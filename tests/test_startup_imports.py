"""A Palabre process starts without the platform SDKs that only a call to their platform needs.

Every process pays its imports at start-up: each web and worker process, every `palabre` command,
and the hundreds of processes the test command starts. The atproto SDK alone took about 0.8 s of
CPU, twitter-text's patterns 0.2 s and the `irc` library 0.1 s, half of a process's start-up; they
are imported where they are used (connectors/bluesky.py, lengths.py, irc/session.py). So are
Mastodon.py, Google's client, PRAW and `requests` under them (0.25 s of the remaining 1.1 s:
connectors/mastodon, youtube, reddit, guarded_requests.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

LAZY = (
    "atproto",
    "atproto_client",
    "atproto_server",
    "twitter_text",
    "irc",
    "mastodon",
    "googleapiclient",
    "httplib2",
    "praw",
    "prawcore",
    "requests",
)

PROBE = f"""
import json, sys
import django
django.setup()
from palabre.connectors.registry import registered
assert "bluesky" in registered() and "irc" in registered()
print(json.dumps(sorted(name for name in {LAZY!r} if name in sys.modules)))
"""


def test_starting_palabre_imports_no_platform_sdk_before_it_is_used():
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "palabre.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
