"""Fitting: the TF-IDF weights, every head, the sentiment model, and the artifacts written."""

from __future__ import annotations

import datetime as _dt
import json
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import f1_score

from palabre.nlp.classifiers import (
    LEARNED,
    SENTIMENTS,
    Classifiers,
    read_sentiment_cues,
    sentiment_cue_features,
)
from palabre.nlp.features import DENSE_FEATURES, FeatureConfig, Featurizer
from palabre.nlp.intent import SENTIMENT_CUES
from palabre.nlp.training.card import model_card
from palabre.nlp.training.data import (
    CALIBRATE_ON,
    CORRECTION_WEIGHT,
    EVAL_SETS,
    FRENCH,
    SEED,
    SPAM_OTHER_ROWS,
    collect,
    labels_of,
)
from palabre.nlp.training.report import auc, corrections_report, intent_report, metrics_report
from palabre.nlp.training.spam import SPAM_EXPERT_HEADS, fit_spam, platt

FEATURES = FeatureConfig(dense_scale=0.3, sublinear=True)
ALPHA_GRID = (2e-6, 1e-5, 5e-5)
SENTIMENT_ALPHAS = (1e-5, 3e-5, 1e-4, 3e-4)
FRENCH_SENTIMENT_WEIGHT = 2.0
# French rows weigh more: few of them, and French is the language Palabre serves first.
FRENCH_WEIGHT = {"spam": 2.0, "toxicity": 3.0, "insult": 3.0, "identity_attack": 3.0}


def idf_weights(config: FeatureConfig, texts: list[str]) -> np.ndarray:
    """Smoothed inverse document frequency of every hashed column in the training texts
    (dense columns keep 1), stored with the model as float16."""
    X, _ = Featurizer(config).transform(texts)
    df = np.bincount(X.indices, minlength=config.n_features)  # one entry per (row, column)
    idf = np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0
    idf[config.n_features - len(DENSE_FEATURES) :] = 1.0
    return idf.astype(np.float16).astype(np.float64)


def mean_auc_against_ordinary_talk(y: np.ndarray, z: np.ndarray, sources: np.ndarray) -> float:
    """The dev figure a head's regularisation is chosen by: for each set whose dev rows hold both
    classes, the AUC of its positives against its negatives and every row of the sets of the same
    language that hold none (ordinary talk: the sentiment tweets, comments, text messages), averaged
    over sets so that one big set does not decide alone. A moderation head also reads ordinary
    messages: scored within MLMA alone (almost all hostile), the identity head kept a weight on
    French words of five MLMA tweets ("pensais", "bon": "je le pensais mais bon" scored 0.86)."""
    names = np.unique(sources)
    french = np.isin(sources, list(FRENCH))
    ordinary = np.isin(sources, [name for name in names if not y[sources == name].any()])
    aucs = []
    for name in names:
        own = sources == name
        if 0 < y[own].sum() < own.sum():
            rows = own | (ordinary & (french == (name in FRENCH)))
            aucs.append(auc(y[rows], z[rows]))
    return float(np.mean(aucs)) if aucs else 0.0


def train(
    datasets_dir: Path,
    out_dir: Path,
    *,
    feedback: list[dict] | None = None,
    corrections: list[dict] | None = None,
) -> dict:
    """Fit every head, write the artifacts to ``out_dir`` and return the metrics report.

    ``corrections`` are people's corrections of sentiment and intent (``palabre train
    --include-feedback``): sentiment ones join the sentiment model's training rows with
    ``CORRECTION_WEIGHT``; intent ones (intent is rule-based) score the rules."""
    t0 = time.time()
    datasets_dir, out_dir = Path(datasets_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = FEATURES
    parts = collect(datasets_dir, feedback, corrections)
    idf = idf_weights(
        config, [r["text"] for (name, split), rows in parts.items() if split == "train" for r in rows]
    )
    featurizer = Featurizer(config, idf)

    X: dict = {}
    analyses: dict[tuple[str, str], list] = {}
    for key, rows in parts.items():
        X[key], analyses[key] = featurizer.transform([r["text"] for r in rows])
    sparse = {key: rows.to_scipy() for key, rows in X.items()}
    t_feat = time.time() - t0

    rng = np.random.default_rng(SEED)

    def stack(split: str, head: str):
        mats, ys, ws, srcs, texts = [], [], [], [], []
        for (name, sp_), rows in parts.items():
            if sp_ != split or name in EVAL_SETS:
                continue
            labs = [labels_of(name, r).get(head) for r in rows]
            idx = [i for i, v in enumerate(labs) if v is not None]
            if head in CALIBRATE_ON and name not in CALIBRATE_ON[head] and len(idx) > SPAM_OTHER_ROWS:
                # Tweets teach the spam head what ordinary talk looks like; a sample is enough
                # and keeps them from drowning the comment and SMS spam.
                idx = sorted(rng.choice(idx, SPAM_OTHER_ROWS, replace=False).tolist())
            if not idx:
                continue
            mats.append(sparse[(name, sp_)][idx])
            ys.append(np.array([labs[i] for i in idx]))
            w = 3.0 if name == "feedback" else FRENCH_WEIGHT.get(head, 2.0) if name in FRENCH else 1.0
            ws.append(np.full(len(idx), w))
            srcs += [name] * len(idx)
            texts += [rows[i]["text"] for i in idx]
        return sp.vstack(mats, format="csr"), np.concatenate(ys), np.concatenate(ws), np.array(srcs), texts

    t_fit = time.time()
    n_feat = config.n_features
    heads = [*LEARNED, *SPAM_EXPERT_HEADS]
    W = np.zeros((n_feat, len(heads)), dtype=np.float32)
    b = np.zeros(len(heads))
    platt_ab = np.zeros((len(heads), 2))
    extra_arrays: dict = {}
    chosen: dict[str, float] = {}
    for h, head in enumerate(LEARNED):
        Xtr, ytr, wtr, str_, ttr = stack("train", head)
        Xdv, ydv, _, sdv, tdv = stack("dev", head)
        if head == "spam":
            found = fit_spam(Xtr, ytr, wtr, str_, ttr, Xdv, ydv, sdv, tdv, CALIBRATE_ON[head])
            for name, (coef, intercept, calibration) in found["columns"].items():
                j = heads.index(name)
                W[:, j], b[j], platt_ab[j] = coef, intercept, calibration
            chosen.update(found["chosen"])
            extra_arrays = found["arrays"]
            continue
        best = None
        for C in ALPHA_GRID:
            # Logistic loss by averaged SGD: exact LR took minutes per fit on ~40k rows and
            # 0.5M hashed features; this converges to nearly the same model in seconds.
            clf = SGDClassifier(
                loss="log_loss",
                alpha=C,
                class_weight="balanced",
                max_iter=15,
                tol=None,
                average=True,
                random_state=SEED,
            )
            clf.fit(Xtr, ytr, sample_weight=wtr)
            z = clf.decision_function(Xdv)
            score = mean_auc_against_ordinary_talk(ydv, z, sdv)
            if best is None or score > best[0]:
                best = (score, C, clf, z)
        _, C, clf, z = best
        chosen[head] = {"alpha": C, "dev_mean_auc": round(best[0], 4)}
        W[:, h] = clf.coef_[0]
        b[h] = clf.intercept_[0]
        keep = np.isin(sdv, list(CALIBRATE_ON[head])) if head in CALIBRATE_ON else np.ones(len(ydv), bool)
        platt_ab[h] = platt(z[keep], ydv[keep])

    t_heads = time.time() - t_fit

    # Sentiment: one multinomial model over French and English tweets, reading the intent cues
    # (complaint, crisis, praise) beside the features of the heads.
    def sent_xy(split):
        keys = [(n, split) for n in ("sentiment_fr", "sentiment_en", "corrections") if (n, split) in parts]
        Xs = sp.vstack(
            [
                sp.hstack([sparse[k], sentiment_cue_features(read_sentiment_cues(analyses[k]))], format="csr")
                for k in keys
            ],
            format="csr",
        )
        ys = np.concatenate([[SENTIMENTS.index(r["label"]) for r in parts[k]] for k in keys])
        french = np.concatenate([np.full(len(parts[k]), k[0] == "sentiment_fr") for k in keys])
        weight = np.concatenate(
            [np.full(len(parts[k]), CORRECTION_WEIGHT if k[0] == "corrections" else 1.0) for k in keys]
        )
        return Xs, ys, french, weight

    Xs, ys, fr_tr, w_tr = sent_xy("train")
    Xsd, ysd, fr_dv, _ = sent_xy("dev")
    best = None
    for alpha in SENTIMENT_ALPHAS:
        m = SGDClassifier(
            loss="log_loss", alpha=alpha, max_iter=30, tol=None, average=True, random_state=SEED
        )
        m.fit(Xs, ys, sample_weight=np.where(fr_tr, FRENCH_SENTIMENT_WEIGHT, 1.0) * w_tr)
        pred = m.predict(Xsd)
        # Each language counts the same, whatever the size of its dev split.
        f = np.mean([f1_score(ysd[lang], pred[lang], average="macro") for lang in (fr_dv, ~fr_dv)])
        if best is None or f > best[0]:
            best = (f, alpha, m)
    _, sC, sm = best
    chosen["sentiment"] = {"alpha": sC, "dev_macro_f1": round(best[0], 4)}

    np.savez_compressed(
        out_dir / "weights.npz",
        W=W.astype(np.float16),
        b=b,
        platt=platt_ab,
        S=sm.coef_[:, :n_feat].T.astype(np.float16),
        S_cues=sm.coef_[:, n_feat:].T,
        sb=sm.intercept_,
        idf=idf.astype(np.float16),
        **extra_arrays,
    )
    meta = {
        "name": "palabre-moderation",
        "heads": heads,
        "features": config.as_dict(),
        "regularisation": chosen,
        "seed": SEED,
        "trained_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "feedback_rows": len(parts.get(("feedback", "train"), [])),
        "sentiment_train_rows": int(len(ys)),
        "sentiment_cues": list(SENTIMENT_CUES),
        "correction_rows": len(parts.get(("corrections", "train"), [])),
    }
    (out_dir / "config.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")

    t_sent = time.time() - t_fit - t_heads
    # Report with the shipped artifacts, through the inference code path.
    model = Classifiers(out_dir)
    report = metrics_report(model, parts, X, analyses)
    report["intent"] = intent_report(datasets_dir, model)
    report["corrections"] = corrections_report(parts.get(("corrections", "train"), []), corrections, model)
    report["model"] = {
        "version": model.version,
        **meta,
        "artifact_bytes": {
            p.name: p.stat().st_size for p in sorted(out_dir.glob("*")) if p.suffix in (".npz", ".json")
        },
        "seconds": {
            "features": round(t_feat, 1),
            "heads": round(t_heads, 1),
            "sentiment": round(t_sent, 1),
            "total": round(time.time() - t0, 1),
        },
    }
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    (out_dir / "MODEL_CARD.md").write_text(model_card(report), encoding="utf-8")
    return report
