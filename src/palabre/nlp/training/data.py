"""The training data: which shared sets are read, what each row teaches each head, and the rows
people's corrections and moderators' feedback add."""

from __future__ import annotations

import csv
from pathlib import Path

from palabre.nlp.classifiers import SENTIMENTS
from palabre.nlp.synthetic import french_ham, french_spam

SEED = 1234
# A person's reading of a real message of the brand's weighs more than one tweet of a public set.
CORRECTION_WEIGHT = 3.0
TRAIN_SETS = (
    "youtube_spam_en",
    "sms_spam_en",
    "mlma_fr",
    "mlma_en",
    "tweeteval_offensive_en",
    "tweeteval_hate_en",
    "sentiment_fr",
    "sentiment_en",
)
EVAL_SETS = ("fr_hate_superset", "hatecheck_fr", "cyberagressionado_fr", "allocine_tvseries_fr")
FRENCH = {"mlma_fr", "sentiment_fr", "synthetic_fr"}
IDENTITY_TARGETS = {"origin", "religion", "gender", "sexual_orientation", "disability"}
# Sources whose dev rows calibrate a head (the realistic distribution for that label).
SPAM_OTHER_ROWS = 800
INTENTS_SCORED = ("question", "complaint", "praise", "lead", "crisis", "other")
CALIBRATE_ON = {"spam": {"youtube_spam_en", "sms_spam_en", "synthetic_fr", "feedback"}}


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def labels_of(source: str, row: dict) -> dict[str, int]:
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


def collect(
    datasets_dir: Path, feedback: list[dict] | None, corrections: list[dict] | None = None
) -> dict[tuple[str, str], list[dict]]:
    parts: dict[tuple[str, str], list[dict]] = {}
    for name in TRAIN_SETS:
        for split in ("train", "dev", "test"):
            rows = read_rows(datasets_dir / name / f"{split}.csv")
            if rows:
                parts[(name, split)] = rows
    for name in EVAL_SETS:
        rows = read_rows(datasets_dir / name / "test.csv")
        if rows:
            parts[(name, "test")] = rows
    # Synthetic French comments: templates numbered 0 mod 5 are held out for dev.
    synth = [(t, x, "spam") for t, x in french_spam(700)] + [(t, x, "ham") for t, x in french_ham(500)]
    parts[("synthetic_fr", "train")] = [{"text": x, "label": y} for t, x, y in synth if t % 5]
    parts[("synthetic_fr", "dev")] = [{"text": x, "label": y} for t, x, y in synth if not t % 5]
    if feedback:
        rows = [
            {"text": str(r.get("text", "")), "label": str(r.get("label", ""))}
            for r in feedback
            if str(r.get("label", "")) in ("spam", "ham", "toxic", "ok") and r.get("text")
        ]
        if rows:
            parts[("feedback", "train")] = rows
    rows = correction_rows(corrections, "sentiment")
    if rows:
        parts[("corrections", "train")] = rows
    return parts


def correction_rows(corrections: list[dict] | None, field: str) -> list[dict]:
    """People's corrections of one field (the latest per message, as the caller gives them), as
    training rows: text, language and the corrected label."""
    allowed = SENTIMENTS if field == "sentiment" else INTENTS_SCORED
    return [
        {"text": str(r["text"]), "language": str(r.get("language") or ""), "label": str(r["label"])}
        for r in corrections or ()
        if r.get("field") == field and r.get("label") in allowed and str(r.get("text") or "").strip()
    ]
