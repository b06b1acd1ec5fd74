"""Triage of a message: language, sentiment and intent, in one batch call (`palabre triage`)."""

from __future__ import annotations

from dataclasses import dataclass

from palabre.nlp.classifiers import load_models
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


def triage_many(texts: list[str], langs: list[str | None] | None = None) -> list[Triage]:
    langs = langs or [None] * len(texts)
    sentiments = load_models().sentiment_many(texts)
    return [
        Triage(
            language=lang or detect_language(text),
            sentiment=label,
            sentiment_scores=scores,
            intent=detect_intent(text, label),
        )
        for text, lang, (label, scores) in zip(texts, langs, sentiments, strict=True)
    ]
