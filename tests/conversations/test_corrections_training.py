"""`palabre train --include-feedback` learns from the corrections people record through the API:
the latest correction of a message wins, sentiment ones join the sentiment rows with their weight,
intent ones score the rules, `--organisation` keeps one organisation's."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from palabre.cli import main
from palabre.conversations.corrections import for_training
from palabre.nlp.training import CORRECTION_WEIGHT, TRAIN_SETS
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, create_api_token

pytestmark = pytest.mark.django_db

SENTIMENT = [
    ("I love it, wonderful", "positive"),
    ("great service, thank you", "positive"),
    ("it is fine I guess", "neutral"),
    ("the shop opens at nine", "neutral"),
    ("terrible, broken again", "negative"),
    ("worst order ever, angry", "negative"),
]
SPAM = [("WIN a free prize, call now", "spam"), ("click here for cheap pills", "spam")]
HAM = [("see you at the meeting", "ham"), ("thanks for the photos", "ham")]


def _write(folder: Path, rows: list[dict]) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    with folder.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def tiny_datasets(tmp_path) -> Path:
    """Every training set, a dozen rows per split: enough for every head to fit in seconds."""
    root = tmp_path / "datasets"
    for name in TRAIN_SETS:
        for split in ("train", "dev", "test"):
            if name.startswith("sentiment"):
                rows = [{"text": f"{t} {i}", "label": y} for i in range(2) for t, y in SENTIMENT]
            elif name.endswith("spam_en"):
                rows = [{"text": f"{t} {i}", "label": y} for i in range(3) for t, y in SPAM + HAM]
            elif name.startswith("mlma"):
                rows = [
                    {
                        "text": f"you stupid idiot {i}",
                        "label": "offensive",
                        "hostility": "offensive",
                        "target": "other",
                    }
                    for i in range(4)
                ] + [
                    {"text": f"nice day {i}", "label": "normal", "hostility": "normal", "target": "other"}
                    for i in range(4)
                ]
            else:
                positive = "offensive" if "offensive" in name else "hate"
                rows = [{"text": f"you idiot {i}", "label": positive} for i in range(4)] + [
                    {"text": f"lovely weather {i}", "label": "not"} for i in range(4)
                ]
            _write(root / name / f"{split}.csv", rows)
    return root


@pytest.fixture(autouse=True)
def one_value_grids(monkeypatch):
    """One value per regularisation grid: what is tested is what the corrections change, not the
    choice of C (each value of each grid is a fit over 2 x 2^18 hashed columns, a third of a second
    even on a dozen rows: the grids took most of this file's minute)."""
    from palabre.nlp.training import spam

    for name in ("SPAM_C_GRID", "EXPERT_C_GRID", "ROUTER_C_GRID"):
        monkeypatch.setattr(spam, name, (4.0,))
    monkeypatch.setattr(spam, "EXPERT_SHIFT_GRID", (0.0,))


def _train(datasets: Path, out: Path, capsys, *extra: str) -> dict:
    main(["train", "--datasets", str(datasets), "--out", str(out), "--include-feedback", *extra])
    captured = capsys.readouterr()
    return {"report": json.loads(captured.out), "said": captured.err}


def _api(client, organisation):
    _token, secret = create_api_token(
        actor=Actor.palabre(organisation), name="t", scopes=[p.value for p in Perm]
    )
    headers = {"Authorization": f"Bearer {secret}"}

    def correct(item, field, value):
        answer = client.post(
            f"/api/inbox/items/{item.pk}/corrections",
            {"field": field, "value": value},
            content_type="application/json",
            headers=headers,
        )
        assert answer.status_code == 201, answer.content

    return correct


def test_corrections_through_the_api_change_what_train_learns(
    client, org, channel, ingest, make_org, make_channel, tiny_datasets, tmp_path, capsys
):
    from palabre.inbox.services import refresh_conversation

    complaint = ingest(channel, text="Colis jamais arrivé, personne ne répond", language="fr")
    question = ingest(channel, text="Vous livrez en Belgique ?", language="fr")
    for item in (complaint, question):
        refresh_conversation(org, item.pk)  # an inbox thread, as the analysis makes it
    assert for_training() == []
    rows_before = 2 * 2 * len(SENTIMENT)  # the two sentiment sets' train splits

    correct = _api(client, org)
    correct(complaint, "sentiment", "positive")  # a slip, corrected again below: only the latest counts
    correct(complaint, "sentiment", "negative")
    correct(complaint, "intent", "complaint")
    correct(question, "intent", "question")
    other = make_org("Autre")
    elsewhere = ingest(make_channel(other, "site", handle="autre.fr"), text="Super boutique, merci !")
    refresh_conversation(other, elsewhere.pk)
    _api(client, other)(elsewhere, "sentiment", "positive")

    rows = for_training()
    assert sorted((r["field"], r["label"]) for r in rows) == [
        ("intent", "complaint"),
        ("intent", "question"),
        ("sentiment", "negative"),
        ("sentiment", "positive"),
    ]
    # One organisation's corrections only.
    mine = _train(tiny_datasets, tmp_path / "m2", capsys, "--organisation", org.slug)["report"]
    assert mine["corrections"]["sentiment"]["labels"] == {"negative": 1}
    assert mine["model"]["sentiment_train_rows"] == rows_before + 1
    after = _train(tiny_datasets, tmp_path / "m1", capsys)
    report = after["report"]
    assert "2 sentiment and 2 intent corrections" in after["said"]
    assert report["model"]["sentiment_train_rows"] == rows_before + 2
    assert report["model"]["correction_rows"] == 2
    assert report["corrections"]["sentiment"] == {
        "rows": 2,
        "weight": CORRECTION_WEIGHT,
        "labels": {"negative": 1, "positive": 1},
    }
    intent = report["corrections"]["intent"]
    assert (
        intent["rows"] == 2
        and intent["rules"]["complaint"]["n"] == 1
        and intent["rules"]["question"]["n"] == 1
    )
    assert 0.0 <= intent["rules"]["accuracy"] <= 1.0


def test_organisation_needs_include_feedback_and_must_exist(tiny_datasets, tmp_path):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--datasets", str(tiny_datasets), "--out", str(tmp_path), "--organisation", "x"])
    assert "--include-feedback" in str(stop.value)
    with pytest.raises(SystemExit) as stop:
        main(["train", "--datasets", str(tiny_datasets), "--include-feedback", "--organisation", "nobody"])
    assert "nobody" in str(stop.value)


@pytest.mark.django_db
def test_the_report_triages_with_the_models_just_written(tiny_datasets, tmp_path, capsys):
    """The intent figures of `palabre train` come from the sentiment model it has just written, not
    from the shipped one (before session 24 they lagged one run behind)."""
    from palabre.nlp.classifiers import Classifiers, load_models
    from palabre.nlp.training.report import intent_report

    report = _train(tiny_datasets, tmp_path / "m", capsys)["report"]
    written = intent_report(tiny_datasets, Classifiers(tmp_path / "m"))
    shipped = intent_report(tiny_datasets, load_models())
    assert report["intent"] == written
    assert written != shipped  # a dozen rows a set teach another sentiment model
