"""Shared by the moderation tests of ordinary and hostile messages."""

from __future__ import annotations

from palabre.moderation.engine import ModerationContext, moderate_many


def decide(texts, lang=None):
    """The real engine's decisions on texts, all in one context of that language."""
    return moderate_many(texts, [ModerationContext(lang=lang)] * len(texts))
