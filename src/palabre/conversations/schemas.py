"""API shapes of people's corrections, shared by the inbox (items) and listening (mentions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db import models
from ninja import Schema

from palabre.conversations import corrections


class CorrectionIn(Schema):
    field: Literal["sentiment", "intent"]
    value: Literal[
        "positive", "neutral", "negative", "question", "complaint", "praise", "lead", "crisis", "other"
    ]


class CorrectionOut(Schema):
    id: int
    field: str
    old_value: str
    new_value: str
    language: str
    corrected_by: str
    corrected_at: datetime


class TriageOut(Schema):
    id: int
    sentiment: str
    intent: str
    detected_sentiment: str
    detected_intent: str
    corrections: list[CorrectionOut]


def triage_out(
    subject: models.Model, sentiment: corrections.Shown, intent: corrections.Shown
) -> dict[str, Any]:
    return {
        "id": subject.pk,
        "sentiment": sentiment.value,
        "intent": intent.value,
        "detected_sentiment": sentiment.detected,
        "detected_intent": intent.detected,
        "corrections": [corrections.as_dict(c) for c in corrections.history(subject)],
    }
