"""Reproducible training of the moderation and sentiment models.

``train(datasets_dir, out_dir)`` reads the shared data sets (train splits to fit, dev
splits to choose the regularisation and calibrate, test splits and eval-only sets to
report), writes ``weights.npz``, ``config.json`` and ``metrics.json`` into ``out_dir`` and
returns the metrics. Only sets whose licence allows training (README ``use: train``) are
fitted; eval-only sets are scored, never learned from.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import f1_score, precision_recall_fscore_support, roc_auc_score

from palabre.nlp.classifiers import LEARNED, SENTIMENTS, Classifiers
from palabre.nlp.features import FeatureConfig, Featurizer
from palabre.nlp.synthetic import french_ham, french_spam

__all__ = ["train"]

SEED = 1234
TRAIN_SETS = ("youtube_spam_en", "sms_spam_en", "mlma_fr", "mlma_en", "tweeteval_offensive_en",
              "tweeteval_hate_en", "sentiment_fr", "sentiment_en")
EVAL_SETS = ("fr_hate_superset", "hatecheck_fr", "cyberagressionado_fr", "allocine_tvseries_fr")
FRENCH = {"mlma_fr", "sentiment_fr", "synthetic_fr"}
IDENTITY_TARGETS = {"origin", "religion", "gender", "sexual_orientation", "disability"}
ALPHA_GRID = (2e-6, 1e-5, 5e-5)
# Sources whose dev rows calibrate a head (the realistic distribution for that label).
CALIBRATE_ON = {"spam": {"youtube_spam_en", "sms_spam_en", "synthetic_fr", "feedback"}}


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _labels(source: str, row: dict) -> dict[str, int]:
    """Map a source row to the heads it informs; absent heads are unknown."""
    lab = row["label"]
    if source in ("youtube_spam_en", "sms_spam_en"):
        y = int(lab == "spam")
        return {"spam": y, "toxicity": 0, "identity_attack": 0} | ({"insult": 0} if not y else {})
    if source == "tweeteval_offensive_en":
        y = int(lab == "offensive")
        return {"toxicity": y, "insult": y, "spam": 0}
    if source == "tweeteval_hate_en":
        y = int(lab == "hate")
        return {"identity_attack": y, "spam": 0} | ({"toxicity": 1} if y else {})
    if source in ("mlma_fr", "mlma_en"):
        if lab == "normal":
            return {"toxicity": 0, "insult": 0, "identity_attack": 0, "spam": 0}
        kinds = set(row.get("hostility", "").split("_"))
        out = {"toxicity": 1, "spam": 0}
        if kinds & {"offensive", "abusive", "disrespectful"}:
            out["insult"] = 1
        if row.get("target") in IDENTITY_TARGETS and kinds & {"hateful", "abusive"}:
            out["identity_attack"] = 1
        elif row.get("target") == "other":
            out["identity_attack"] = 0
        return out
    if source in ("sentiment_fr", "sentiment_en"):
        return {"spam": 0, "toxicity": 0, "insult": 0, "identity_attack": 0}
    if source == "synthetic_fr":
        y = int(lab == "spam")
        return {"spam": y, "toxicity": 0, "insult": 0, "identity_attack": 0}
    if source == "feedback":
        if lab in ("spam", "ham"):
            return {"spam": int(lab == "spam")}
        if lab == "toxic":
            return {"toxicity": 1}
        if lab == "ok":
            return {"toxicity": 0, "insult": 0, "identity_attack": 0}
    return {}


def _collect(datasets_dir: Path, feedback: list[dict] | None) -> dict[tuple[str, str], list[dict]]:
    parts: dict[tuple[str, str], list[dict]] = {}
    for name in TRAIN_SETS:
        for split in ("train", "dev", "test"):
            rows = _read(datasets_dir / name / f"{split}.csv")
            if rows:
                parts[(name, split)] = rows
    for name in EVAL_SETS:
        rows = _read(datasets_dir / name / "test.csv")
        if rows:
            parts[(name, "test")] = rows
    # Synthetic French comments: templates numbered 0 mod 5 are held out for dev.
    synth = [(t, x, "spam") for t, x in french_spam(700)] + [(t, x, "ham") for t, x in french_ham(500)]
    parts[("synthetic_fr", "train")] = [{"text": x, "label": y} for t, x, y in synth if t % 5]
    parts[("synthetic_fr", "dev")] = [{"text": x, "label": y} for t, x, y in synth if not t % 5]
    if feedback:
        rows = [{"text": str(r.get("text", "")), "label": str(r.get("label", ""))} for r in feedback
                if str(r.get("label", "")) in ("spam", "ham", "toxic", "ok") and r.get("text")]
        if rows:
            parts[("feedback", "train")] = rows
    return parts


def _metrics_binary(y: np.ndarray, p: np.ndarray) -> dict:
    pred = p >= 0.5
    prec, rec, f1, _ = precision_recall_fscore_support(y, pred, average="binary", zero_division=0)
    out = {"n": int(len(y)), "positives": int(y.sum()), "precision": round(float(prec), 4),
           "recall": round(float(rec), 4), "f1": round(float(f1), 4)}
    if 0 < y.sum() < len(y):
        out["roc_auc"] = round(float(roc_auc_score(y, p)), 4)
    return out


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    return round(float(roc_auc_score(y, p)), 4) if 0 < y.sum() < len(y) else None


def _platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit sigmoid(a*z + c) on dev logits (Platt scaling with smoothed targets)."""
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    lr = LogisticRegression(C=1e4, solver="lbfgs")
    # sklearn wants hard labels; weight two copies with the smoothed targets.
    zz = np.concatenate([z, z])[:, None]
    yy = np.concatenate([np.ones_like(y), np.zeros_like(y)])
    ww = np.concatenate([t, 1 - t])
    lr.fit(zz, yy, sample_weight=ww)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def train(datasets_dir: Path, out_dir: Path, *, feedback: list[dict] | None = None) -> dict:
    """Fit every head, write the artifacts to ``out_dir`` and return the metrics report."""
    t0 = time.time()
    datasets_dir, out_dir = Path(datasets_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = FeatureConfig()
    featurizer = Featurizer(config)
    parts = _collect(datasets_dir, feedback)

    X: dict[tuple[str, str], sp.csr_matrix] = {}
    analyses: dict[tuple[str, str], list] = {}
    for key, rows in parts.items():
        X[key], analyses[key] = featurizer.transform([r["text"] for r in rows])
    t_feat = time.time() - t0

    def stack(split: str, head: str, extra_neg: bool = True):
        mats, ys, ws, srcs = [], [], [], []
        for (name, sp_), rows in parts.items():
            if sp_ != split or name in EVAL_SETS:
                continue
            labs = [_labels(name, r).get(head) for r in rows]
            idx = [i for i, v in enumerate(labs) if v is not None]
            if not idx:
                continue
            mats.append(X[(name, sp_)][idx])
            ys.append(np.array([labs[i] for i in idx]))
            w = 2.0 if name in FRENCH else 3.0 if name == "feedback" else 1.0
            ws.append(np.full(len(idx), w))
            srcs += [name] * len(idx)
        return sp.vstack(mats, format="csr"), np.concatenate(ys), np.concatenate(ws), np.array(srcs)

    n_feat = config.n_features
    W = np.zeros((n_feat, len(LEARNED)), dtype=np.float32)
    b = np.zeros(len(LEARNED))
    platt = np.zeros((len(LEARNED), 2))
    chosen: dict[str, float] = {}
    for h, head in enumerate(LEARNED):
        Xtr, ytr, wtr, _ = stack("train", head)
        Xdv, ydv, _, sdv = stack("dev", head)
        best = None
        for C in ALPHA_GRID:
            # Logistic loss by averaged SGD: exact LR took minutes per fit on ~40k rows and
            # 0.5M hashed features; this converges to nearly the same model in seconds.
            clf = SGDClassifier(loss="log_loss", alpha=C, class_weight="balanced", max_iter=25,
                                tol=None, average=True, random_state=SEED)
            clf.fit(Xtr, ytr, sample_weight=wtr)
            z = clf.decision_function(Xdv)
            # Average the dev AUC over sources so one big set does not decide alone.
            aucs = [_auc(ydv[sdv == s], z[sdv == s]) for s in np.unique(sdv)]
            aucs = [a for a in aucs if a is not None]
            score = float(np.mean(aucs)) if aucs else 0.0
            if best is None or score > best[0]:
                best = (score, C, clf, z)
        _, C, clf, z = best
        chosen[head] = {"alpha": C, "dev_mean_auc": round(best[0], 4)}
        W[:, h] = clf.coef_[0]
        b[h] = clf.intercept_[0]
        keep = np.isin(sdv, list(CALIBRATE_ON[head])) if head in CALIBRATE_ON else np.ones(len(ydv), bool)
        platt[h] = _platt(z[keep], ydv[keep])

    # Sentiment: one multinomial model over French and English tweets.
    def sent_xy(split):
        keys = [(n, split) for n in ("sentiment_fr", "sentiment_en") if (n, split) in parts]
        Xs = sp.vstack([X[k] for k in keys], format="csr")
        ys = np.concatenate([[SENTIMENTS.index(r["label"]) for r in parts[k]] for k in keys])
        return Xs, ys
    Xs, ys = sent_xy("train")
    Xsd, ysd = sent_xy("dev")
    best = None
    for C in (1.0, 4.0, 16.0):
        m = LogisticRegression(C=C, max_iter=500, random_state=SEED)
        m.fit(Xs, ys)
        f = f1_score(ysd, m.predict(Xsd), average="macro")
        if best is None or f > best[0]:
            best = (f, C, m)
    _, sC, sm = best
    chosen["sentiment"] = sC

    np.savez_compressed(out_dir / "weights.npz", W=W.astype(np.float16), b=b, platt=platt,
                        S=sm.coef_.T.astype(np.float16), sb=sm.intercept_)
    meta = {
        "name": "palabre-moderation",
        "heads": list(LEARNED),
        "features": config.as_dict(),
        "regularisation": chosen,
        "seed": SEED,
        "trained_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "feedback_rows": len(parts.get(("feedback", "train"), [])),
    }
    (out_dir / "config.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")

    # Report with the shipped artifacts, through the inference code path.
    model = Classifiers(out_dir)
    report = _report(model, parts, X, analyses)
    report["model"] = {"version": model.version, **meta,
                       "artifact_bytes": {p.name: p.stat().st_size for p in sorted(out_dir.glob("*"))
                                          if p.suffix in (".npz", ".json")},
                       "seconds": {"features": round(t_feat, 1), "total": round(time.time() - t0, 1)}}
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return report


TOXIC_KEYS = ("toxicity", "insult", "identity_attack", "threat")


def _report(model: Classifiers, parts, X, analyses) -> dict:
    scores = {}
    for key in parts:
        if key[0] == "feedback":
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
            lab.setdefault(name, {}).setdefault(label, {})[split] = _metrics_binary(gold(key, fn), col(key, label))
        for name in ("mlma_fr", "mlma_en"):
            key = (name, split)
            if key not in parts:
                continue
            rows = parts[key]
            idx = [i for i, r in enumerate(rows) if _labels(name, r).get("identity_attack") is not None]
            y = np.array([_labels(name, rows[i])["identity_attack"] for i in idx])
            p = col(key, "identity_attack")[idx]
            lab[name].setdefault("identity_attack", {})[split] = _metrics_binary(y, p)
        for name in ("sentiment_fr", "sentiment_en"):
            key = (name, split)
            if key not in parts:
                continue
            pred = [lbl for lbl, _ in model.sentiment_many([r["text"] for r in parts[key]])]
            report["sentiment"].setdefault(name, {})[split] = {
                "macro_f1": round(float(f1_score([r["label"] for r in parts[key]], pred, average="macro")), 4),
                "baseline_macro_f1": {"sentiment_fr": 0.653, "sentiment_en": 0.563}[name]}

    ev = report["eval_only"]
    def max_toxic(key):
        return np.max(np.vstack([col(key, k) for k in TOXIC_KEYS]), axis=0)

    key = ("fr_hate_superset", "test")
    if key in parts:
        y = gold(key, lambda r: r["label"] == "hateful")
        m = max_toxic(key)
        d = {"n": int(len(y)), "baseline_auc": 0.541, "auc_max_toxic": _auc(y, m)}
        for k in TOXIC_KEYS:
            d[f"auc_{k}"] = _auc(y, col(key, k))
        by = defaultdict(list)
        for i, r in enumerate(parts[key]):
            by[r.get("dataset", "?")].append(i)
        d["auc_max_toxic_by_source"] = {s: _auc(y[i], m[i]) for s, i in sorted(by.items())}
        d["at_0.5"] = _metrics_binary(y, m)
        ev["fr_hate_superset"] = d
    key = ("hatecheck_fr", "test")
    if key in parts:
        y = gold(key, lambda r: r["label"] == "hateful")
        m = max_toxic(key)
        by = defaultdict(list)
        for i, r in enumerate(parts[key]):
            by[r.get("functionality", "?")].append(i)
        ev["hatecheck_fr"] = {
            "n": int(len(y)), "auc_max_toxic": _auc(y, m), "at_0.5": _metrics_binary(y, m),
            "accuracy_by_functionality": {f: round(float(((m[i] >= 0.5) == y[i]).mean()), 3) for f, i in sorted(by.items())}}
    key = ("cyberagressionado_fr", "test")
    if key in parts:
        y = gold(key, lambda r: r["label"] != "none")
        yt = gold(key, lambda r: r["label"] == "threat")
        m = max_toxic(key)
        ev["cyberagressionado_fr"] = {"n": int(len(y)), "auc_max_toxic": _auc(y, m),
                                      "auc_threat_vs_rest": _auc(yt, col(key, "threat")),
                                      "at_0.5": _metrics_binary(y, m)}
    key = ("allocine_tvseries_fr", "test")
    if key in parts:
        rows = parts[key]
        res = model.sentiment_many([r["text"] for r in rows])
        pred = ["positive" if s["positive"] >= s["negative"] else "negative" for _, s in res]
        ev["allocine_tvseries_fr"] = {"n": len(rows), "macro_f1_pos_vs_neg": round(float(
            f1_score([r["label"] for r in rows], pred, average="macro")), 4)}
    return report
