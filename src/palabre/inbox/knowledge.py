"""Knowledge-base suggestions: the articles closest to a thread, TF-IDF over French-aware words."""

from __future__ import annotations

from dataclasses import dataclass

from palabre.nlp.similarity import similarities
from palabre.nlp.terms import analyzer

MIN_SCORE = 0.05


@dataclass(frozen=True)
class Suggestion:
    article_id: int
    score: float


def suggest(query: str, articles: list[tuple[int, str]], *, limit: int = 3) -> list[Suggestion]:
    """`articles`: (id, title and text). The best matches first, only those that share words."""
    if not articles or not query.strip():
        return []
    scores = similarities(query, [text for _id, text in articles], analyzer=analyzer)
    ranked = sorted(range(len(articles)), key=lambda i: -scores[i])
    return [
        Suggestion(articles[i][0], round(float(scores[i]), 3))
        for i in ranked[:limit]
        if scores[i] >= MIN_SCORE
    ]
