"""The metrics report of a training run, read through the inference code path: labelled sets,
eval-only sets, sentiment, intent and people's corrections."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support, roc_auc_score

from palabre.nlp.classifiers import Classifiers
from palabre.nlp.training.data import (
    CORRECTION_WEIGHT,
    INTENTS_SCORED,
    correction_rows,
    labels_of,
    read_rows,
)


def metrics_binary(y: np.ndarray, p: np.ndarray) -> dict:
    pred = p >= 0.5
    prec, rec, f1, _ = precision_recall_fscore_support(y, pred, average="binary", zero_division=0)
    out = {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "precision": round(float(prec), 4),
        "recall": round(float(rec), 4),
        "f1": round(float(f1), 4),
    }
    if 0 < y.sum() < len(y):
        out["roc_auc"] = round(float(roc_auc_score(y, p)), 4)
    return out


def auc(y: np.ndarray, p: np.ndarray) -> float | None:
    return round(float(roc_auc_score(y, p)), 4) if 0 < y.sum() < len(y) else None


TOXIC_KEYS = ("toxicity", "insult", "identity_attack", "threat")
INTENT_SET = Path(__file__).resolve().parents[4] / "tests" / "data" / "intent_fr.csv"
# Harder French messages (session 22), in a dev and a test half: accuracy per half.
HARD_INTENT_SET = INTENT_SET.with_name("intent_fr_hard.csv")
# French messages of many trades (session 23), in the same two halves.
TRADES_INTENT_SET = INTENT_SET.with_name("intent_fr_trades.csv")


def intent_report(datasets_dir: Path, models: Classifiers) -> dict:
    """Intent figures through the real triage (rules over `models`, the sentiment model just
    written): the French brand messages written for Palabre (in a source checkout), and complaints_en."""
    from palabre.nlp.triage import triage_many

    out: dict = {}
    if INTENT_SET.exists():
        rows = read_rows(INTENT_SET)
        found = triage_many([r["text"] for r in rows], ["fr"] * len(rows), models=models)
        gold = [r["intent"] for r in rows]
        pred = [t.intent.label for t in found]
        p, r, f, n = precision_recall_fscore_support(gold, pred, labels=list(INTENTS_SCORED), zero_division=0)
        out["intent_fr"] = {
            label: {
                "precision": round(float(a), 3),
                "recall": round(float(b), 3),
                "f1": round(float(c), 3),
                "n": int(d),
            }
            for label, a, b, c, d in zip(INTENTS_SCORED, p, r, f, n, strict=True)
        }
        out["intent_fr"]["accuracy"] = round(
            float(np.mean([a == b for a, b in zip(gold, pred, strict=True)])), 3
        )
    for key, path in (("intent_fr_hard", HARD_INTENT_SET), ("intent_fr_trades", TRADES_INTENT_SET)):
        if path.exists():
            rows = read_rows(path)
            found = triage_many([r["text"] for r in rows], ["fr"] * len(rows), models=models)
            out[key] = {}
            for half in ("dev", "test"):
                right = [
                    t.intent.label == r["intent"]
                    for t, r in zip(found, rows, strict=True)
                    if r["split"] == half
                ]
                out[key][half] = {"right": int(sum(right)), "n": len(right)}
    rows = read_rows(Path(datasets_dir) / "complaints_en" / "test.csv")
    if rows:
        found = triage_many([r["text"] for r in rows], ["en"] * len(rows), models=models)
        y = np.array([r["label"] == "complaint" for r in rows])
        pred = np.array([t.intent.label == "complaint" for t in found])
        negative = np.array(
            [t.sentiment_scores["negative"] == max(t.sentiment_scores.values()) for t in found]
        )
        m = metrics_binary(y.astype(int), pred.astype(float))
        m.pop("roc_auc", None)
        m["f1_negative_sentiment_alone"] = round(float(f1_score(y, negative)), 4)
        out["complaints_en"] = m
    return out


def corrections_report(
    sentiment_rows: list[dict], corrections: list[dict] | None, models: Classifiers
) -> dict:
    """How many corrections the run used, and how the intent rules over `models` fare on the
    corrected messages (precision and recall per intent, the corrected intent as the truth)."""
    from palabre.nlp.triage import triage_many

    labels: dict[str, int] = defaultdict(int)
    for r in sentiment_rows:
        labels[r["label"]] += 1
    out: dict = {
        "sentiment": {
            "rows": len(sentiment_rows),
            "weight": CORRECTION_WEIGHT,
            "labels": dict(sorted(labels.items())),
        },
    }
    rows = correction_rows(corrections, "intent")
    intent: dict = {"rows": len(rows)}
    if rows:
        found = triage_many([r["text"] for r in rows], [r["language"] or None for r in rows], models=models)
        gold = [r["label"] for r in rows]
        pred = [t.intent.label for t in found]
        p, r_, f, n = precision_recall_fscore_support(
            gold, pred, labels=list(INTENTS_SCORED), zero_division=0
        )
        intent["rules"] = {
            label: {"precision": round(float(a), 3), "recall": round(float(b), 3), "n": int(d)}
            for label, a, b, c, d in zip(INTENTS_SCORED, p, r_, f, n, strict=True)
            if d or (np.array(pred) == label).any()
        }
        intent["rules"]["accuracy"] = round(
            float(np.mean([a == b for a, b in zip(gold, pred, strict=True)])), 3
        )
    out["intent"] = intent
    return out


def metrics_report(model: Classifiers, parts, X, analyses) -> dict:
    scores = {}
    for key in parts:
        if key[0] in ("feedback", "corrections"):
            continue
        scores[key] = model._head_scores(X[key], analyses[key])

    def col(key, label):
        return np.array([s[label] for s in scores[key]])

    def gold(key, fn):
        return np.array([fn(r) for r in parts[key]], dtype=int)

    report: dict = {"labelled": {}, "eval_only": {}, "sentiment": {}}
    lab = report["labelled"]
    for split in ("dev", "test"):
        for name, label, fn in [
            ("youtube_spam_en", "spam", lambda r: r["label"] == "spam"),
            ("sms_spam_en", "spam", lambda r: r["label"] == "spam"),
            ("synthetic_fr", "spam", lambda r: r["label"] == "spam"),
            ("tweeteval_offensive_en", "toxicity", lambda r: r["label"] == "offensive"),
            ("tweeteval_offensive_en", "insult", lambda r: r["label"] == "offensive"),
            ("mlma_fr", "toxicity", lambda r: r["label"] == "hostile"),
            ("mlma_en", "toxicity", lambda r: r["label"] == "hostile"),
            ("tweeteval_hate_en", "identity_attack", lambda r: r["label"] == "hate"),
        ]:
            key = (name, split)
            if key not in parts:
                continue
            lab.setdefault(name, {}).setdefault(label, {})[split] = metrics_binary(
                gold(key, fn), col(key, label)
            )
        for name in ("mlma_fr", "mlma_en"):
            key = (name, split)
            if key not in parts:
                continue
            rows = parts[key]
            idx = [i for i, r in enumerate(rows) if labels_of(name, r).get("identity_attack") is not None]
            y = np.array([labels_of(name, rows[i])["identity_attack"] for i in idx])
            p = col(key, "identity_attack")[idx]
            lab[name].setdefault("identity_attack", {})[split] = metrics_binary(y, p)
        for name in ("sentiment_fr", "sentiment_en"):
            key = (name, split)
            if key not in parts:
                continue
            pred = [lbl for lbl, _ in model.sentiment_many([r["text"] for r in parts[key]])]
            report["sentiment"].setdefault(name, {})[split] = {
                "macro_f1": round(
                    float(f1_score([r["label"] for r in parts[key]], pred, average="macro")), 4
                ),
                "baseline_macro_f1": {"sentiment_fr": 0.653, "sentiment_en": 0.563}[name],
            }

    ev = report["eval_only"]

    def max_toxic(key):
        return np.max(np.vstack([col(key, k) for k in TOXIC_KEYS]), axis=0)

    key = ("fr_hate_superset", "test")
    if key in parts:
        y = gold(key, lambda r: r["label"] == "hateful")
        m = max_toxic(key)
        d = {"n": int(len(y)), "baseline_auc": 0.541, "auc_max_toxic": auc(y, m)}
        for k in TOXIC_KEYS:
            d[f"auc_{k}"] = auc(y, col(key, k))
        by = defaultdict(list)
        for i, r in enumerate(parts[key]):
            by[r.get("dataset", "?")].append(i)
        d["auc_max_toxic_by_source"] = {s: auc(y[i], m[i]) for s, i in sorted(by.items())}
        d["at_0.5"] = metrics_binary(y, m)
        ev["fr_hate_superset"] = d
    key = ("hatecheck_fr", "test")
    if key in parts:
        y = gold(key, lambda r: r["label"] == "hateful")
        m = max_toxic(key)
        by = defaultdict(list)
        for i, r in enumerate(parts[key]):
            by[r.get("functionality", "?")].append(i)
        ev["hatecheck_fr"] = {
            "n": int(len(y)),
            "auc_max_toxic": auc(y, m),
            "at_0.5": metrics_binary(y, m),
            "accuracy_by_functionality": {
                f: round(float(((m[i] >= 0.5) == y[i]).mean()), 3) for f, i in sorted(by.items())
            },
        }
    key = ("cyberagressionado_fr", "test")
    if key in parts:
        y = gold(key, lambda r: r["label"] != "none")
        yt = gold(key, lambda r: r["label"] == "threat")
        m = max_toxic(key)
        ev["cyberagressionado_fr"] = {
            "n": int(len(y)),
            "auc_max_toxic": auc(y, m),
            "auc_threat_vs_rest": auc(yt, col(key, "threat")),
            "at_0.5": metrics_binary(y, m),
        }
    key = ("allocine_tvseries_fr", "test")
    if key in parts:
        rows = parts[key]
        res = model.sentiment_many([r["text"] for r in rows])
        pred = ["positive" if s["positive"] >= s["negative"] else "negative" for _, s in res]
        ev["allocine_tvseries_fr"] = {
            "n": len(rows),
            "macro_f1_pos_vs_neg": round(
                float(f1_score([r["label"] for r in rows], pred, average="macro")), 4
            ),
        }
    return report
