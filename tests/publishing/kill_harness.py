"""Runs real `palabre` commands in subprocesses, with a test platform registered first.

    python kill_harness.py setup            -> JSON {token, channel}
    python kill_harness.py palabre ARGS...  -> `palabre ARGS...` (worker, serve)

The test platform (`CountingPlatform`, the discourse platform) notes every publish call in the
file named by PALABRE_TEST_CALLS, as a platform would store the post, then takes
PALABRE_TEST_PUBLISH_SLEEP seconds to answer (so a worker can be killed in the middle). It can look
up a post by its idempotency key, as platforms that accept one can.
"""

from __future__ import annotations

import json
import os
import sys
import time


def _register() -> None:
    from palabre.connectors.base import Capability, Connector, Delivered
    from palabre.connectors.registry import register_connector

    class CountingPlatform(Connector):
        platform = "discourse"
        capabilities = frozenset({Capability.PUBLISH})

        def publish(self, channel, *, text, media=(), idempotency_key):
            path = os.environ["PALABRE_TEST_CALLS"]
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, f"{idempotency_key}\t{os.getpid()}\n".encode())
            finally:
                os.close(fd)
            time.sleep(float(os.environ.get("PALABRE_TEST_PUBLISH_SLEEP", "0")))
            return Delivered(f"t-{idempotency_key}", f"https://forum.example/t/{idempotency_key}")

        def find_delivered(self, channel, idempotency_key):
            path = os.environ["PALABRE_TEST_CALLS"]
            if not os.path.exists(path):
                return None
            with open(path, encoding="utf-8") as calls:
                keys = [line.split("\t")[0] for line in calls]
            if idempotency_key in keys:
                return Delivered(f"t-{idempotency_key}", f"https://forum.example/t/{idempotency_key}")
            return None

    register_connector("discourse", CountingPlatform)


def _setup() -> dict:
    from django.contrib.auth import get_user_model

    from palabre.orgs.permissions import Perm
    from palabre.orgs.services import Actor, create_api_token, create_channel, create_organisation

    owner = get_user_model().objects.create_user(username="owner", password="Kill-test-2024!")
    organisation = create_organisation(name="Maison Lumière", owner=owner, slug="lumiere")
    actor = Actor.for_user(owner, organisation)
    channel = create_channel(actor=actor, platform="discourse", handle="forum.lumiere.fr", name="Forum")
    _token, raw = create_api_token(actor=actor, name="test", scopes=[p.value for p in Perm])
    answer = {"token": raw, "channel": channel.pk}
    mastodon = os.environ.get("PALABRE_TEST_MASTODON_URL")
    if mastodon:
        toots = create_channel(
            actor=actor,
            platform="mastodon",
            handle="@lumiere@mastodon.example",
            name="Mastodon",
            credentials={"access_token": "secret-token", "api_base_url": mastodon},
        )
        answer["mastodon"] = toots.pk
    return answer


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palabre.settings")
    import django

    django.setup()
    _register()
    if sys.argv[1] == "setup":
        print(json.dumps(_setup()))
        return
    from palabre.cli import main as palabre

    palabre(sys.argv[2:])


if __name__ == "__main__":
    main()
