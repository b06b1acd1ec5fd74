"""The spam heads' pieces: Platt calibration, the dev-F1 threshold, and the experts mixed into the
general spam head by routers that read the text alone (SMS; YouTube-style comments)."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from palabre.nlp.classifiers import COMMENT_ROUTE_MIN, COMMENT_UNSURE, mix_spam
from palabre.nlp.tfidf import fit_vocabulary
from palabre.nlp.training.data import SEED


def platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
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


SPAM_C_GRID = (4.0, 16.0)
# Experts mixed into the general spam head by routers that read the text alone (fit_experts);
# Classifiers mixes them the same way: the comment expert first, then the SMS expert.
SMS_SOURCE = "sms_spam_en"
COMMENT_SOURCE = "youtube_spam_en"
SPAM_EXPERT_HEADS = ("spam_comment", "spam_comment_route", "spam_sms", "spam_sms_route")
EXPERT_C_GRID = (4.0, 16.0)
ROUTER_C_GRID = (1.0, 4.0, 16.0)
COMMENT_FOLDS = 5
# A logit offset added to the comment and SMS experts (not to the general head, whose 0.5 is
# already moved to its best dev F1), chosen by the mean dev F1 of YouTube and SMS. The experts are
# fitted with balanced classes and left uncalibrated, and a mixture of probabilities pulls a spam
# comment the comment expert gets right just under 0.5 (general head unsure, SMS expert sure it is
# no text message spam). 5-fold out-of-fold errors on the train rows, offset 0 -> 0.2: YouTube
# 57 -> 50 of 982, SMS 46 -> 42 of 3,188, tweets and French rows unchanged.
EXPERT_SHIFT_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def f1_threshold(z: np.ndarray, y: np.ndarray) -> float:
    """The decision value that gives the best F1 on dev (middle of the best plateau)."""
    order = np.argsort(-z)
    ys = y[order]
    tp = np.cumsum(ys)
    k = np.arange(1, len(ys) + 1)
    f1 = 2 * tp / (k + ys.sum())
    zs = z[order]
    best = f1.max()
    good = zs[f1 >= best - 1e-9]
    return float(np.median(good))


def _exact_lr(C: float, class_weight="balanced") -> LogisticRegression:
    return LogisticRegression(
        C=C, class_weight=class_weight, solver="liblinear", max_iter=2000, random_state=SEED
    )


def fit_comment_expert(Xc, yc, texts: list[str]) -> dict:
    """The comment spam expert: the mean of two models fitted on the comment rows alone, one on the
    shared hashed features of the normalised text, one on the exact vocabulary of the raw text
    (word 1-2-grams and character 2-5-grams, :mod:`palabre.nlp.tfidf`). On YouTube comments their
    mean beats each alone (5-fold cross-validation on train+dev, F1: hashed 0.956-0.958,
    vocabulary 0.948, mean 0.959-0.963). The C of each is chosen by 5-fold cross-validation on
    the comment train rows (136 dev rows are too few to choose four values)."""
    folds = []
    for a, b in StratifiedKFold(COMMENT_FOLDS, shuffle=True, random_state=SEED).split(yc, yc):
        _, union = fit_vocabulary([texts[i] for i in a])
        folds.append((a, b, union.transform([texts[i] for i in a]), union.transform([texts[i] for i in b])))
    oof_hashed = {C: np.zeros(len(yc)) for C in EXPERT_C_GRID}
    oof_vocab = {C: np.zeros(len(yc)) for C in EXPERT_C_GRID}
    for a, b, Va, Vb in folds:
        for C in EXPERT_C_GRID:
            oof_hashed[C][b] = sigmoid(_exact_lr(C).fit(Xc[a], yc[a]).decision_function(Xc[b]))
            oof_vocab[C][b] = sigmoid(_exact_lr(C).fit(Va, yc[a]).decision_function(Vb))
    best = None
    for hC in EXPERT_C_GRID:
        for vC in EXPERT_C_GRID:
            score = float(f1_score(yc, (oof_hashed[hC] + oof_vocab[vC]) / 2 >= 0.5))
            if best is None or score > best[0] + 1e-9:
                best = (score, hC, vC)
    cv_f1, hC, vC = best
    hashed = _exact_lr(hC).fit(Xc, yc)
    vocabulary, union = fit_vocabulary(texts)
    vocab = _exact_lr(vC).fit(union.transform(texts), yc)
    coef, intercept = vocab.coef_[0].astype(np.float32), float(vocab.intercept_[0])
    return {
        "C": hC,
        "vocabulary_C": vC,
        "cv_f1": round(cv_f1, 4),
        "vocabulary_terms": vocabulary.n_features,
        "hashed": hashed,
        "vocabulary": vocabulary,
        "coef": coef,
        "intercept": intercept,
        "arrays": {
            "comment_words": np.array("\n".join(vocabulary.words)),
            "comment_word_idf": np.asarray(union.transformer_list[0][1].idf_, np.float32),
            "comment_chars": np.array("\n".join(vocabulary.chars)),
            "comment_char_idf": np.asarray(union.transformer_list[1][1].idf_, np.float32),
            "comment_coef": coef,
            "comment_b": np.array(intercept),
        },
    }


def fit_experts(Xtr, ytr, str_, texts_tr, Xdv, ydv, sdv, texts_dv, p_general: np.ndarray) -> dict:
    """A comment spam expert and an SMS spam expert, each mixed in by a router that says, from the
    text alone, how much it reads like a video's comment or a text message, mixed by
    :func:`palabre.nlp.classifiers.mix_spam` (which ``Classifiers`` uses too).

    One head serving comments, SMS, tweets and French comments lost about a point of F1 on SMS
    and on YouTube to models fitted on each set alone. The SMS expert sees SMS rows only; each
    router sees the spam head's training rows, its source against the rest (the comment router
    with classes balanced: comments are a tenth of the rows). Where the comment route weighs under
    ``COMMENT_ROUTE_MIN``, or the general head is sure (outside ``COMMENT_UNSURE``), the general
    head stands alone (the vocabulary model is not computed), as in ``Classifiers``. The comment router's C is chosen by the mean dev F1 of YouTube and SMS of
    the comment mixture at 0.5, then the SMS expert's and its router's C by that of the whole, then
    the experts' logit offset (``EXPERT_SHIFT_GRID``) by that of the whole again."""
    sms, comment_rows = str_ == SMS_SOURCE, str_ == COMMENT_SOURCE
    rows = np.flatnonzero(comment_rows)
    comment = fit_comment_expert(Xtr[rows], ytr[rows], [texts_tr[i] for i in rows])
    comment_dv = (
        sigmoid(comment["hashed"].decision_function(Xdv))
        + sigmoid(
            comment["vocabulary"].dot(texts_dv, comment["coef"].astype(np.float64)) + comment["intercept"]
        )
    ) / 2

    def mean_f1(p: np.ndarray) -> float:
        return float(
            np.mean([f1_score(ydv[sdv == s_], p[sdv == s_] >= 0.5) for s_ in (COMMENT_SOURCE, SMS_SOURCE)])
        )

    lo, hi = COMMENT_UNSURE
    unsure = (p_general > lo) & (p_general < hi)
    best = None
    for rC in ROUTER_C_GRID:
        router = _exact_lr(rC).fit(Xtr, comment_rows.astype(int))
        r = sigmoid(router.decision_function(Xdv))
        r = np.where((r >= COMMENT_ROUTE_MIN) & unsure, r, 0.0)
        p = r * comment_dv + (1 - r) * p_general
        if best is None or mean_f1(p) > best[0] + 1e-9:
            best = (mean_f1(p), rC, router, r)
    comment_f1, comment_rC, comment_router, r_comment = best
    sms_experts = {C: _exact_lr(C).fit(Xtr[sms], ytr[sms]) for C in EXPERT_C_GRID}
    best = None
    for rC in ROUTER_C_GRID:
        router = _exact_lr(rC, class_weight=None).fit(Xtr, sms.astype(int))
        r = sigmoid(router.decision_function(Xdv))
        for C, clf in sms_experts.items():
            p = mix_spam(p_general, r_comment, comment_dv, r, sigmoid(clf.decision_function(Xdv)))
            if best is None or mean_f1(p) > best[0] + 1e-9:
                best = (mean_f1(p), C, rC, clf, router)
    sms_f1, C, rC, clf, router = best
    shift, shift_f1 = _expert_shift(
        mean_f1,
        p_general,
        sigmoid(comment_router.decision_function(Xdv)),
        comment["hashed"].decision_function(Xdv),
        comment["vocabulary"].dot(texts_dv, comment["coef"].astype(np.float64)) + comment["intercept"],
        sigmoid(router.decision_function(Xdv)),
        clf.decision_function(Xdv),
    )
    # Each expert column carries the offset as its calibration, (1, shift); the vocabulary model
    # carries it in its stored intercept (Classifiers reads both unchanged).
    columns = {
        "spam_comment": (comment["hashed"].coef_[0], float(comment["hashed"].intercept_[0]), shift),
        "spam_comment_route": (comment_router.coef_[0], float(comment_router.intercept_[0]), 0.0),
        "spam_sms": (clf.coef_[0], float(clf.intercept_[0]), shift),
        "spam_sms_route": (router.coef_[0], float(router.intercept_[0]), 0.0),
    }
    arrays = dict(comment["arrays"], comment_b=np.array(comment["intercept"] + shift))
    chosen = {
        "spam_comment": {key: comment[key] for key in ("C", "vocabulary_C", "cv_f1", "vocabulary_terms")}
        | {"router_C": comment_rC, "dev_mean_f1": round(comment_f1, 4)},
        "spam_sms": {"C": C, "router_C": rC, "dev_mean_f1": round(sms_f1, 4)},
        "spam_experts": {"shift": shift, "dev_mean_f1": round(shift_f1, 4)},
    }
    return {"columns": columns, "arrays": arrays, "chosen": chosen}


def _expert_shift(mean_f1, p_general, r_comment, z_hashed, z_vocab, r_sms, z_sms) -> tuple[float, float]:
    """The experts' logit offset (``EXPERT_SHIFT_GRID``) with the best mean dev F1 of the whole
    mixture, mixed as ``Classifiers`` mixes it; the smallest offset wins a tie."""
    lo, hi = COMMENT_UNSURE
    consulted = (r_comment >= COMMENT_ROUTE_MIN) & (p_general > lo) & (p_general < hi)
    r = np.where(consulted, r_comment, 0.0)
    best = None
    for shift in EXPERT_SHIFT_GRID:
        comment = (sigmoid(z_hashed + shift) + sigmoid(z_vocab + shift)) / 2
        p = mix_spam(p_general, r, comment, r_sms, sigmoid(z_sms + shift))
        score = mean_f1(p)
        if best is None or score > best[1] + 1e-9:
            best = (shift, score)
    return best


def fit_spam(Xtr, ytr, wtr, str_, texts_tr, Xdv, ydv, sdv, texts_dv, calibrate_on) -> dict:
    """Every spam column: the general head (an exact logistic regression, C chosen by the mean dev
    F1 of YouTube and SMS, Platt-scaled with 0.5 moved to the best dev F1 of the calibration
    sources), then the experts and their router (:func:`fit_experts`). Returns each column's
    coefficients, intercept and calibration, the arrays to store, and what was chosen."""
    keep = np.isin(sdv, list(calibrate_on))
    best = None
    for C in SPAM_C_GRID:
        clf = _exact_lr(C).fit(Xtr, ytr, sample_weight=wtr)
        z = clf.decision_function(Xdv)
        f1s = [
            f1_score(ydv[sdv == s_], z[sdv == s_] >= 0)
            for s_ in (COMMENT_SOURCE, SMS_SOURCE)
            if (sdv == s_).any()
        ]
        score = float(np.mean(f1s)) if f1s else 0.0
        if best is None or score > best[0]:
            best = (score, C, clf, z)
    score, C, clf, z = best
    a, _ = platt(z[keep], ydv[keep])
    t = f1_threshold(z[keep], ydv[keep])
    columns = {"spam": (clf.coef_[0], float(clf.intercept_[0]), (a, -a * t))}  # 0.5 at the dev F1 threshold
    chosen: dict = {"spam": {"C": C, "dev_mean_f1": round(score, 4), "threshold": round(t, 4)}}
    experts = fit_experts(Xtr, ytr, str_, texts_tr, Xdv, ydv, sdv, texts_dv, sigmoid(a * (z - t)))
    for name, (coef, intercept, shift) in experts["columns"].items():
        columns[name] = (coef, intercept, (1.0, shift))
    chosen.update(experts["chosen"])
    return {"columns": columns, "arrays": experts["arrays"], "chosen": chosen}
