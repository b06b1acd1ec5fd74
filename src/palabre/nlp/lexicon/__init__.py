"""Lexicon matching on normalised text, with spans in the original text.

Words are compared by their skeleton (runs of one letter cut to one), so elongations
and doubled-letter misspellings (``conard``, ``salloppe``) still match.
"""

from __future__ import annotations

from palabre.nlp.lexicon.context import (
    CONTEXT_KINDS,
    COUNTER_EXCUSES,
    HOSTILE_CATEGORIES,
    NEGATED_EXCUSES,
    NEUTRAL_REACH,
    REPORTED_REACH,
    ContextReading,
    context_language,
    masked_text,
    merged_ranges,
    read_context,
)
from palabre.nlp.lexicon.entries import (
    CATEGORIES,
    CONTEXT_LANGUAGES,
    LEXICON_DIR,
    Lexicon,
    LexiconHits,
    Span,
    load_lexicon,
    skeleton,
)

__all__ = [
    "CATEGORIES",
    "CONTEXT_KINDS",
    "CONTEXT_LANGUAGES",
    "COUNTER_EXCUSES",
    "ContextReading",
    "HOSTILE_CATEGORIES",
    "LEXICON_DIR",
    "Lexicon",
    "LexiconHits",
    "NEGATED_EXCUSES",
    "NEUTRAL_REACH",
    "REPORTED_REACH",
    "Span",
    "context_language",
    "load_lexicon",
    "masked_text",
    "merged_ranges",
    "read_context",
    "skeleton",
]
