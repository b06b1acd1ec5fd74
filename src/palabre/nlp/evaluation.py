"""`palabre eval`: Palabre's figures on every labelled set beside a plain baseline trained in the
same run, with 95% bootstrap confidence intervals, per part where a set has parts.

The baseline is the project's reference point: TF-IDF word 1-2-grams plus char_wb 2-5-grams,
logistic regression (C=4, balanced classes), fitted on a visible train split and scored on the
same rows as Palabre. Palabre is read through callables given by the caller (the command passes
the moderation engine and the triage), so the figures are those of `palabre check` and
`palabre triage`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["SETS", "EvalSet", "evaluate", "to_markdown", "to_text"]

SEED = 1234
TOXIC_LABELS = ("toxicity", "insult", "identity_attack", "threat")
SENTIMENTS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class EvalSet:
    name: str
    kind: str  # "spam", "toxic", "sentiment", "complaint"
    metric: str  # "f1", "auc", "macro_f1", "complaint_f1"
    lang: str
    positive: str  # positive label; "!x" = every label but x
    baseline_from: str  # the train split the baseline learns from
    baseline_positive: str | None  # None: a multi-class baseline (sentiment)
    parts: str | None = None  # column splitting the set into parts
    classes: tuple[str, ...] = ()
    use: str = "train"


SETS: tuple[EvalSet, ...] = (
    EvalSet("youtube_spam_en", "spam", "f1", "en", "spam", "youtube_spam_en", "spam"),
    EvalSet("sms_spam_en", "spam", "f1", "en", "spam", "sms_spam_en", "spam"),
    EvalSet("mlma_fr", "toxic", "auc", "fr", "hostile", "mlma_fr", "hostile"),
    EvalSet("mlma_en", "toxic", "auc", "en", "hostile", "mlma_en", "hostile"),
    EvalSet(
        "tweeteval_offensive_en", "toxic", "auc", "en", "offensive", "tweeteval_offensive_en", "offensive"
    ),
    EvalSet("tweeteval_hate_en", "toxic", "auc", "en", "hate", "tweeteval_hate_en", "hate"),
    EvalSet("fr_hate_superset", "toxic", "auc", "fr", "hateful", "mlma_fr", "hostile", "dataset", use="eval"),
    EvalSet(
        "hatecheck_fr", "toxic", "auc", "fr", "hateful", "mlma_fr", "hostile", "functionality", use="eval"
    ),
    EvalSet("cyberagressionado_fr", "toxic", "auc", "fr", "!none", "mlma_fr", "hostile", use="eval"),
    EvalSet("sentiment_fr", "sentiment", "macro_f1", "fr", "", "sentiment_fr", None, classes=SENTIMENTS),
    EvalSet("sentiment_en", "sentiment", "macro_f1", "en", "", "sentiment_en", None, classes=SENTIMENTS),
    EvalSet(
        "allocine_tvseries_fr",
        "sentiment",
        "macro_f1",
        "fr",
        "",
        "sentiment_fr",
        None,
        classes=("negative", "positive"),
        use="eval",
    ),
    EvalSet(
        "complaints_en", "complaint", "complaint_f1", "en", "complaint", "sentiment_en", None, use="eval"
    ),
)
# Sets in the folder that are not classification (scored elsewhere), named in the report.
NOT_SCORED = {
    "nab_tweets": "spike detection on mention series: `palabre bench` of listening, not a classifier"
}

Moderate = Callable[[list[str], str], list[dict[str, float]]]
Triage = Callable[[list[str], str], list[tuple[str, str]]]  # (sentiment, intent) per text


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# -- metrics (vectorised over bootstrap resamples) -----------------------------------------
def f1_binary(pred: np.ndarray, gold: np.ndarray) -> float:
    tp = float(np.sum(pred & gold))
    fp = float(np.sum(pred & ~gold))
    fn = float(np.sum(~pred & gold))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def roc_auc(scores: np.ndarray, gold: np.ndarray) -> float:
    """Mann-Whitney ROC-AUC with tied scores averaged; NaN when one class is missing."""
    pos = int(gold.sum())
    neg = len(gold) - pos
    if not pos or not neg:
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    return float((ranks[gold].sum() - pos * (pos + 1) / 2) / (pos * neg))


def macro_f1(pred: np.ndarray, gold: np.ndarray, classes: Sequence[str]) -> float:
    return float(np.mean([f1_binary(pred == c, gold == c) for c in classes]))


def accuracy(pred: np.ndarray, gold: np.ndarray) -> float:
    return float(np.mean(pred == gold)) if len(gold) else float("nan")


# -- the plain baseline ------------------------------------------------------------------
def baseline_model(rows: list[dict], positive: str | None):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    model = make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True),
        ),
        LogisticRegression(max_iter=2000, C=4, class_weight="balanced"),
    )
    texts = [r["text"] for r in rows]
    if positive is None:
        model.fit(texts, [r["label"] for r in rows])
    else:
        model.fit(texts, [r["label"] == positive for r in rows])
    return model


@dataclass
class Figure:
    name: str  # what is measured, e.g. "F1 (spam)", "ROC-AUC"
    n: int
    palabre: float
    palabre_ci: tuple[float, float]
    baseline: float
    baseline_ci: tuple[float, float]
    delta_ci: tuple[float, float]

    def as_dict(self) -> dict:
        r = lambda x: None if x is None or np.isnan(x) else round(float(x), 4)  # noqa: E731
        return {
            "measure": self.name,
            "n": self.n,
            "palabre": r(self.palabre),
            "palabre_ci": [r(x) for x in self.palabre_ci],
            "baseline": r(self.baseline),
            "baseline_ci": [r(x) for x in self.baseline_ci],
            "delta_ci": [r(x) for x in self.delta_ci],
        }


@dataclass
class SetReport:
    name: str
    split: str
    use: str
    overall: list[Figure] = field(default_factory=list)
    parts: dict[str, list[Figure]] = field(default_factory=dict)
    part_column: str | None = None
    extra: dict = field(default_factory=dict)


def _figure(
    name: str,
    metric: Callable[[np.ndarray, bool], float],
    n: int,
    resamples: int,
    rng: np.random.Generator,
    *,
    everything=None,
    draw: Callable[[np.random.Generator], object] | None = None,
) -> Figure:
    """``metric(idx, baseline)`` scores Palabre (False) or the baseline (True) on rows idx; the
    same resamples serve both, so the interval of their difference is paired. ``draw`` makes
    one resample (default: n row indices drawn with replacement)."""
    everything = np.arange(n) if everything is None else everything
    draw = draw or (lambda g: g.integers(0, n, n))
    ours, base = metric(everything, False), metric(everything, True)
    ours_v, base_v, diff_v = [], [], []
    for _ in range(resamples):
        idx = draw(rng)
        a, b = metric(idx, False), metric(idx, True)
        if not (np.isnan(a) or np.isnan(b)):
            ours_v.append(a)
            base_v.append(b)
            diff_v.append(a - b)

    def ci(values):
        if not values:
            return (float("nan"), float("nan"))
        lo, hi = np.percentile(values, [2.5, 97.5])
        return (float(lo), float(hi))

    return Figure(name, n, ours, ci(ours_v), base, ci(base_v), ci(diff_v))


def evaluate(
    datasets_dir: Path,
    *,
    moderate: Moderate,
    triage: Triage,
    split: str = "test",
    resamples: int = 1000,
    only: set[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[SetReport]:
    datasets_dir = Path(datasets_dir)
    rng = np.random.default_rng(SEED)
    baselines: dict[tuple[str, str | None], object] = {}
    reports: list[SetReport] = []
    for spec in SETS:
        if only and spec.name not in only:
            continue
        path = datasets_dir / spec.name / f"{split}.csv"
        if not path.exists():
            continue
        if progress:
            progress(spec.name)
        rows = read_rows(path)
        key = (spec.baseline_from, spec.baseline_positive)
        if key not in baselines:
            baselines[key] = baseline_model(
                read_rows(datasets_dir / spec.baseline_from / "train.csv"), spec.baseline_positive
            )
        base = baselines[key]
        reports.append(_score_set(spec, split, rows, base, moderate, triage, resamples, rng))
    return reports


def _score_set(spec: EvalSet, split: str, rows, base, moderate, triage, resamples, rng) -> SetReport:
    texts = [r["text"] for r in rows]
    report = SetReport(spec.name, split, spec.use, part_column=spec.parts)
    labels = np.array([r["label"] for r in rows])
    if spec.kind in ("spam", "toxic"):
        gold = labels != spec.positive[1:] if spec.positive.startswith("!") else labels == spec.positive
        scores = moderate(texts, spec.lang)
        keys = ("spam",) if spec.kind == "spam" else TOXIC_LABELS
        ours = np.array([max(s.get(k, 0.0) for k in keys) for s in scores])
        theirs = base.predict_proba(texts)[:, 1]
        _score_binary(report, spec, rows, gold, ours, theirs, resamples, rng)
    elif spec.kind == "sentiment":
        found = triage(texts, spec.lang)
        ours = np.array([s for s, _ in found])
        theirs = np.asarray(base.predict(texts))
        # A two-class set (allocine): a neutral answer counts as wrong for both classes.
        m = lambda idx, b: macro_f1((theirs if b else ours)[idx], labels[idx], spec.classes)  # noqa: E731
        report.overall.append(_figure("macro-F1", m, len(rows), resamples, rng))
        for c in spec.classes:
            report.extra[c] = _prf(ours == c, labels == c) | {"baseline": _prf(theirs == c, labels == c)}
    else:  # complaint: Palabre's intent; the baseline's negative sentiment stands for it
        found = triage(texts, spec.lang)
        ours = np.array([i == "complaint" for _, i in found])
        theirs = np.asarray(base.predict(texts)) == "negative"
        gold = labels == spec.positive
        m = lambda idx, b: f1_binary((theirs if b else ours)[idx], gold[idx])  # noqa: E731
        report.overall.append(_figure("F1 (complaint)", m, len(rows), resamples, rng))
        report.extra["complaint"] = _prf(ours, gold) | {"baseline": _prf(theirs, gold)}
    return report


def _prf(pred: np.ndarray, gold: np.ndarray) -> dict:
    tp = float(np.sum(pred & gold))
    p = tp / max(float(pred.sum()), 1.0)
    r = tp / max(float(gold.sum()), 1.0)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1_binary(pred, gold), 4)}


def _score_binary(report, spec, rows, gold, ours, theirs, resamples, rng) -> None:
    n = len(rows)
    if spec.metric == "f1":
        m = lambda idx, b: f1_binary(((theirs if b else ours) >= 0.5)[idx], gold[idx])  # noqa: E731
        report.overall.append(_figure("F1 (spam)", m, n, resamples, rng))
        report.extra["spam"] = _prf(ours >= 0.5, gold) | {"baseline": _prf(theirs >= 0.5, gold)}
    a = lambda idx, b: roc_auc((theirs if b else ours)[idx], gold[idx])  # noqa: E731
    report.overall.append(_figure("ROC-AUC", a, n, resamples, rng))
    if spec.metric != "f1":
        acc = lambda idx, b: accuracy(((theirs if b else ours) >= 0.5)[idx], gold[idx])  # noqa: E731
        report.overall.append(_figure("accuracy at 0.5", acc, n, resamples, rng))
    if not spec.parts:
        return
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(r.get(spec.parts) or "?", []).append(i)
    for part, idx_list in sorted(groups.items()):
        idx = np.array(idx_list)
        g, o, t = gold[idx], ours[idx], theirs[idx]
        figures = []
        if 0 < g.sum() < len(g):
            pa = lambda j, b, o=o, t=t, g=g: roc_auc((t if b else o)[j], g[j])  # noqa: E731
            figures.append(_figure("ROC-AUC", pa, len(idx), resamples, rng))
        pc = lambda j, b, o=o, t=t, g=g: accuracy(((t if b else o) >= 0.5)[j], g[j])  # noqa: E731
        figures.append(_figure("accuracy at 0.5", pc, len(idx), resamples, rng))
        report.parts[part] = figures
    if spec.name == "fr_hate_superset":
        # Pooled AUC rewards text length (the parts differ in length and hate rate): the mean of
        # the sexism and FTR parts' AUCs is the fairer single figure.
        named = [p for p in ("sexism", "FTR") if p in groups]
        if len(named) == 2:
            idxs = [np.array(groups[p]) for p in named]

            def mean_auc(subs, b):
                return float(np.mean([roc_auc((theirs if b else ours)[s], gold[s]) for s in subs]))

            def draw(g):  # each part resampled on its own
                return [ix[g.integers(0, len(ix), len(ix))] for ix in idxs]

            report.overall.append(
                _figure(
                    "mean ROC-AUC of sexism and FTR",
                    mean_auc,
                    sum(len(i) for i in idxs),
                    resamples,
                    rng,
                    everything=idxs,
                    draw=draw,
                )
            )


# -- output ----------------------------------------------------------------------------
def _num(x) -> str:
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.3f}"


def _ci(ci) -> str:
    return f"[{_num(ci[0])}, {_num(ci[1])}]"


def _verdict(f: Figure) -> str:
    if np.isnan(f.palabre) or np.isnan(f.baseline):
        return ""
    return "above" if f.palabre >= f.baseline else "below"


def to_markdown(reports: list[SetReport], *, header: str = "") -> str:
    out = [header] if header else []
    out.append("| set | use | measure | n | Palabre | 95% CI | baseline | 95% CI | difference 95% CI | |")
    out.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for rep in reports:
        for f in rep.overall:
            out.append(
                f"| {rep.name} | {rep.use} | {f.name} | {f.n} | {_num(f.palabre)} | {_ci(f.palabre_ci)} | "
                f"{_num(f.baseline)} | {_ci(f.baseline_ci)} | {_ci(f.delta_ci)} | {_verdict(f)} |"
            )
    for rep in reports:
        if rep.extra:
            out.append(f"\n### {rep.name}: precision, recall, F1 per label\n")
            out.append("| label | P | R | F1 | baseline P | baseline R | baseline F1 |")
            out.append("| --- | --- | --- | --- | --- | --- | --- |")
            for label, d in rep.extra.items():
                b = d["baseline"]
                out.append(
                    f"| {label} | {d['precision']:.3f} | {d['recall']:.3f} | {d['f1']:.3f} | "
                    f"{b['precision']:.3f} | {b['recall']:.3f} | {b['f1']:.3f} |"
                )
        if rep.parts:
            out.append(f"\n### {rep.name} per `{rep.part_column}`\n")
            out.append("| part | measure | n | Palabre | 95% CI | baseline | 95% CI | difference 95% CI | |")
            out.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
            for part, figures in rep.parts.items():
                for f in figures:
                    out.append(
                        f"| {part} | {f.name} | {f.n} | {_num(f.palabre)} | {_ci(f.palabre_ci)} | "
                        f"{_num(f.baseline)} | {_ci(f.baseline_ci)} | {_ci(f.delta_ci)} | {_verdict(f)} |"
                    )
    if NOT_SCORED:
        out.append("\nNot scored here: " + "; ".join(f"`{k}` ({v})" for k, v in NOT_SCORED.items()) + ".")
    return "\n".join(out) + "\n"


def to_text(reports: list[SetReport]) -> str:
    out = [f"{'set':32s} {'measure':32s} {'n':>5s} {'palabre':>22s} {'baseline':>22s}"]
    for rep in reports:
        rows = [(rep.name, f) for f in rep.overall]
        rows += [(f"  {rep.name}:{part}", f) for part, figs in rep.parts.items() for f in figs]
        for name, f in rows:
            out.append(
                f"{name[:32]:32s} {f.name[:32]:32s} {f.n:5d} "
                f"{_num(f.palabre):>6s} {_ci(f.palabre_ci):>15s} {_num(f.baseline):>6s} {_ci(f.baseline_ci):>15s}"
            )
    return "\n".join(out) + "\n"
