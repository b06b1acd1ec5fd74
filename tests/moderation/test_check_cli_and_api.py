"""`palabre check` (JSON lines, as the shared evaluation runs it) and POST /api/moderation/check."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, create_api_token, create_organisation


def run_check(stdin: bytes, *args: str) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-m", "palabre", "check", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def test_check_answers_one_line_per_input_in_order_with_every_score():
    lines = [
        {"id": "a", "text": "Bonjour, vous livrez en Belgique ?", "lang": "fr"},
        {"id": 7, "text": "Free bitcoin!!! click http://x.example.xyz", "author": "Crypto Shop"},
        {"text": "sans id"},
        {"id": "d", "text": "Espèce de c0nnard"},
    ]
    stdin = ("\n".join(json.dumps(line) for line in lines) + "\n").encode()
    answers = run_check(stdin)
    assert [a["id"] for a in answers] == ["a", 7, 3, "d"]
    for answer in answers:
        assert answer["action"] in {"publish", "hold", "reject"}
        assert set(answer["scores"]) == {"spam", "toxicity", "insult", "identity_attack", "threat", "sexual"}
    assert answers[0]["action"] == "publish"
    assert answers[1]["action"] != "publish"


def test_check_survives_bad_lines_and_bad_bytes():
    stdin = b'{"id": 1, "text": "ok"}\nnot json\n{"id": 3}\n{"id": 4, "text": "caf\xff\xfe invalid utf8"}\n[1,2]\n'
    answers = run_check(stdin)
    assert [a["id"] for a in answers] == [1, 2, 3, 4, 5]
    assert "error" in answers[1] and "invalid JSON" in answers[1]["error"]
    assert "text" in answers[2]["error"]
    assert answers[3]["action"] in {"publish", "hold", "reject"}
    assert "error" in answers[4]


def test_check_reads_a_file(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "x", "text": "Merci pour votre réponse rapide"}\n', encoding="utf-8")
    assert run_check(b"", str(path))[0]["id"] == "x"


@pytest.mark.django_db(transaction=True)
def test_api_check_applies_the_organisations_rules(live_server, make_user):
    from palabre.moderation.services import create_rule

    organisation = create_organisation(name="Maison Test", owner=make_user("boss"))
    owner = Actor.for_user(organisation.memberships.get().user, organisation)
    create_rule(actor=owner, kind="banned_word", pattern="casanova", enabled=True)
    _token, plain = create_api_token(actor=owner, name="site", scopes=[Perm.ITEMS_VIEW.value])
    client = httpx.Client(base_url=live_server.url + "/api", headers={"Authorization": f"Bearer {plain}"})
    answer = client.post("/moderation/check", json={"text": "Achetez chez CasaNova", "lang": "fr"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["action"] == "reject"
    assert body["reasons"][0]["code"] == "banned_word"
    span = next(s for s in body["spans"] if s["label"] == "banned_word")
    assert "Achetez chez CasaNova"[span["start"] : span["end"]] == "CasaNova"
    empty = client.post("/moderation/check", json={"text": "   "})
    assert empty.status_code == 422 and "text" in empty.json()["fields"]
    missing = client.post("/moderation/check", json={"lang": "fr"})
    assert missing.status_code == 422 and "text" in missing.json()["fields"]
