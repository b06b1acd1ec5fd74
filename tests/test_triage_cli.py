"""`palabre triage`: JSON lines in, language, sentiment and intent out, one line per input, in order."""

import json
import os
import subprocess
import sys


def test_triage_answers_every_line_in_order():
    lines = [
        {"id": "q", "text": "Vous livrez en Belgique ?", "lang": "fr"},
        {"id": "c", "text": "Still no refund after three weeks, terrible service"},
        {"text": "sans id"},
    ]
    stdin = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    result = subprocess.run(
        [sys.executable, "-m", "palabre", "triage"],
        input=stdin.encode(),
        capture_output=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr.decode()
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [a["id"] for a in answers] == ["q", "c", 3, 4]
    assert answers[0]["language"] == "fr" and answers[0]["intent"]["label"] == "question"
    assert answers[1]["language"] == "en" and answers[1]["sentiment"]["label"] == "negative"
    assert answers[1]["intent"]["label"] == "complaint"
    assert set(answers[2]["sentiment"]["scores"]) == {"negative", "neutral", "positive"}
    assert "error" in answers[3]
