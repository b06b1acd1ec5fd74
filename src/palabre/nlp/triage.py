"""Triage of a message: language, sentiment and intent, in one batch call (`palabre triage`)."""

from __future__ import annotations

from dataclasses import dataclass

from palabre.nlp.classifiers import Classifiers, load_models
from palabre.nlp.intent import Intent, detect_intent
from palabre.nlp.language import detect_language


@dataclass(frozen=True)
class Triage:
    language: str
    sentiment: str
    sentiment_scores: dict[str, float]
    intent: Intent

    def as_dict(self) -> dict:
        return {
            "language": self.language,
            "sentiment": {"label": self.sentiment, "scores": self.sentiment_scores},
            "intent": {"label": self.intent.label, "scores": self.intent.scores},
        }


def triage_many(
    texts: list[str], langs: list[str | None] | None = None, *, models: Classifiers | None = None
) -> list[Triage]:
    """Triage of each text, with the shipped models unless others are given (`palabre train`
    reports with the models it has just written)."""
    langs = langs or [None] * len(texts)
    readings = (models or load_models()).triage_readings(texts)
    found = []
    for text, lang, (label, scores, normalized) in zip(texts, langs, readings, strict=True):
        intent = detect_intent(text, label, scores, normalized)
        if label == "negative" and intent.label in ("lead", "praise"):
            # "😭 would love to order": a wish to buy or a compliment is not a negative message,
            # whatever the emoji taught the model; it must not page anyone at night.
            label = "positive" if scores.get("positive", 0.0) >= scores.get("neutral", 0.0) else "neutral"
        elif label == "positive" and intent.ironic:
            # "Merci la SNCF pour ce retard, vraiment top": the model reads the kind words.
            label = "negative"
        found.append(Triage(lang or detect_language(text), label, scores, intent))
    return found
