"""Shared by the moderation tests of ordinary and hostile messages."""

from __future__ import annotations

from palabre.moderation.engine import PUBLISH, ModerationContext, moderate_many


def decide(texts, lang=None):
    """The real engine's decisions on texts, all in one context of that language."""
    return moderate_many(texts, [ModerationContext(lang=lang)] * len(texts))


def assert_published(texts, lang=None):
    """Every text is published; a failure names the text, its scores and reasons."""
    for text, decision in zip(texts, decide(texts, lang), strict=True):
        assert decision.action == PUBLISH, (text, decision.scores, decision.reasons)


def not_published(texts, lang=None):
    """(text, decision) of each text, none of them published (held or rejected)."""
    pairs = list(zip(texts, decide(texts, lang), strict=True))
    for text, decision in pairs:
        assert decision.action != PUBLISH, (text, decision.scores)
    return pairs
