"""`palabre eval`'s core: figures with paired bootstrap intervals beside the plain baseline."""

import csv

import numpy as np

from palabre.nlp.evaluation import evaluate, roc_auc, to_markdown


def _write(path, rows, extra=()):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, ["text", "label", *extra])
        w.writeheader()
        w.writerows(rows)


def _datasets(tmp_path):
    spam = [{"text": f"win cash now call {i}", "label": "spam"} for i in range(30)]
    ham = [{"text": f"see you at lunch {i} tomorrow", "label": "ham"} for i in range(30)]
    _write(tmp_path / "youtube_spam_en" / "train.csv", spam + ham)
    _write(tmp_path / "youtube_spam_en" / "test.csv", spam[:10] + ham[:10])
    hostile = [{"text": f"sale type {i} degage", "label": "hostile"} for i in range(30)]
    normal = [{"text": f"belle journee {i} au parc", "label": "normal"} for i in range(30)]
    _write(tmp_path / "mlma_fr" / "train.csv", hostile + normal)
    parts = [{"text": f"sale type {i}", "label": "hateful", "dataset": "sexism"} for i in range(8)] + [
        {"text": f"belle journee {i}", "label": "not_hateful", "dataset": "sexism"} for i in range(8)
    ]
    parts += [{"text": f"degage {i}", "label": "hateful", "dataset": "FTR"} for i in range(6)]
    parts += [{"text": f"au parc {i}", "label": "not_hateful", "dataset": "FTR"} for i in range(6)]
    _write(tmp_path / "fr_hate_superset" / "test.csv", parts, extra=("dataset",))
    return tmp_path


def test_figures_parts_and_markdown(tmp_path):
    datasets = _datasets(tmp_path)

    def moderate(texts, lang):
        # A scorer that is right on spam and wrong on hate: the report must say both.
        return [
            {"spam": 0.9 if "cash" in t else 0.1, "toxicity": 0.1 if ("sale" in t or "degage" in t) else 0.9}
            for t in texts
        ]

    reports = evaluate(datasets, moderate=moderate, triage=lambda t, lang: [], resamples=50)
    by = {r.name: r for r in reports}
    assert set(by) == {"youtube_spam_en", "fr_hate_superset"}
    spam_f1 = by["youtube_spam_en"].overall[0]
    assert spam_f1.name == "F1 (spam)" and spam_f1.palabre == 1.0
    lo, hi = spam_f1.palabre_ci
    assert lo <= spam_f1.palabre <= hi
    hate = by["fr_hate_superset"]
    assert hate.overall[0].palabre == 0.0  # inverted scorer: AUC 0
    assert set(hate.parts) == {"sexism", "FTR"}
    assert any(f.name == "mean ROC-AUC of sexism and FTR" for f in hate.overall)
    md = to_markdown(reports, header="# Q\n")
    assert "| fr_hate_superset | eval | ROC-AUC |" in md and "below" in md
    assert "### fr_hate_superset per `dataset`" in md


def test_auc_averages_ties():
    assert roc_auc(np.array([0.5, 0.5]), np.array([True, False])) == 0.5
    assert np.isnan(roc_auc(np.array([0.1, 0.2]), np.array([True, True])))
