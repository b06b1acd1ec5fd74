"""`palabre guardrails check`: one JSON line out per line in, with the same id."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from palabre.publishing.management.commands.guardrails import check_stream
from palabre.publishing.services import update_policy


def test_the_command_answers_every_line_in_order():
    lines = [
        {"id": "promo", "text": "Soldes : -30 % sur nos canapés #IranElection"},
        {"id": 7, "text": "Notre atelier de Nantes recrute deux ébénistes."},
        {"text": "Bon week-end 😍😍😍🔥🔥🔥✨✨✨"},
        {"id": "poll", "text": "Votre couleur préférée ?", "campaign_kind": "nope"},
    ]
    source = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\nnot json\n"
    done = subprocess.run(
        [sys.executable, "-m", "palabre", "guardrails", "check", "--lang", "en"],
        input=source,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=os.environ.copy(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["id"] for a in answers] == ["promo", 7, 3, "poll", 5]
    promo = answers[0]
    assert promo["verdict"] == "block"
    finding = promo["findings"][0]
    assert finding["guardrail"] == "sensitive_topic" and finding["severity"] == "block"
    assert finding["span"] == [31, 44] and "promotion" in finding["explanation"]
    assert answers[1] == {"id": 7, "verdict": "pass", "findings": []}
    assert answers[2]["verdict"] == "warn" and answers[2]["findings"][0]["guardrail"] == "emoji_stuffing"
    assert answers[3]["verdict"] == "pass"  # an unknown campaign kind without org: the text alone
    assert "error" in answers[4]


def test_organisation_lines_use_its_lists_and_channels(org, owner_actor, make_channel):
    channel = make_channel(org, "x", handle="@maisondupont")
    update_policy(actor=owner_actor, charter_words=["pas cher*"])
    lines = [
        {"id": 1, "org": org.slug, "text": "Une lampe pas chère"},
        {"id": 2, "org": org.slug, "channel": "@maisondupont", "text": "Très " * 80},
        {"id": 3, "org": "nobody", "text": "Bonjour"},
        {"id": 4, "org": org.slug, "channel": 999999, "text": "Bonjour"},
        {"id": 5, "channel": channel.pk, "text": "Bonjour"},
    ]
    sink = io.StringIO()
    check_stream(io.StringIO("\n".join(json.dumps(line) for line in lines)), sink)
    answers = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert answers[0]["verdict"] == "block" and answers[0]["findings"][0]["guardrail"] == "off_charter"
    assert "channel_limits" in {f["guardrail"] for f in answers[1]["findings"]}
    assert "no organisation" in answers[2]["error"]
    assert "no channel" in answers[3]["error"]
    assert "needs `org`" in answers[4]["error"]
