"""`palabre triage` adds the priority; `palabre inbox tick|digest` run the scheduled work."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_triage_gives_a_priority_with_its_reasons():
    lines = [
        {"id": "fire", "text": "Votre lampe a pris feu chez moi, incendie, c'est dangereux !", "lang": "fr"},
        {"id": "calm", "text": "Merci pour la jolie table, très contente", "followers": 10},
        {"id": "wait", "text": "Vous livrez en Belgique ?", "followers": 200000, "waiting_minutes": 600},
    ]
    result = subprocess.run(
        [sys.executable, "-m", "palabre", "triage"],
        input="\n".join(json.dumps(line) for line in lines).encode(),
        capture_output=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr.decode()
    answers = {a["id"]: a for a in map(json.loads, result.stdout.decode().splitlines())}
    assert answers["fire"]["intent"]["label"] == "crisis" and answers["fire"]["priority"]["score"] >= 70
    assert answers["calm"]["priority"] == {"score": 0, "reasons": []}
    codes = [r["code"] for r in answers["wait"]["priority"]["reasons"]]
    assert codes == ["unanswered_question", "reach", "waiting"]


def test_inbox_tick_and_digest_commands(channel, post, org, capsys, cm):
    import pytest
    from django.core.management import call_command

    from palabre.inbox.models import Notification

    post(channel, "Vous livrez en Belgique ?")
    call_command("inbox", "tick", organisation=org.slug)
    assert json.loads(capsys.readouterr().out) == {"organisation": org.slug, "refreshed": 1, "warned": 0}
    call_command("inbox", "digest", organisation=org.slug)
    assert json.loads(capsys.readouterr().out)["digests"] == 2  # the owner and the community manager
    assert Notification.objects.filter(kind="digest").count() == 2
    with pytest.raises(SystemExit, match="nope"):
        call_command("inbox", "tick", organisation="nope")
