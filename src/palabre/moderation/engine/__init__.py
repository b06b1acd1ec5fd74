"""The moderation decision: publish, hold for a person, or reject, with the reasons why.

Pure: no database. Services build a `ModerationContext` (the organisation's rules, thresholds,
what is known of the author) and store the `Decision`; `palabre check` calls it directly.
"""

from __future__ import annotations

from palabre.moderation.engine.context import (
    BLATANT_SPAM_REASONS,
    DEFAULT_HOLD,
    DEFAULT_REJECT,
    FLAGGED_CATEGORIES,
    GROUP_HOSTILE_SCORES,
    HOLD,
    MIN_HOLD,
    PUBLISH,
    REJECT,
    SEVERITY,
    SIGNALS,
    SPAM_PHRASE_SCORE,
    SPAM_PHRASES,
    TRUST_SHIFT,
    UNNAMED_GROUP_IDENTITY_HOLD,
    Author,
    Decision,
    ModerationContext,
    OffHours,
    Reason,
    Rule,
    RuleSet,
    Thresholds,
    domain_key,
    signal_reasons,
)
from palabre.moderation.engine.decide import is_blatant_spam, moderate, moderate_many
from palabre.moderation.engine.links import fingerprint, links_in, name_looks_commercial

__all__ = [
    "Author",
    "BLATANT_SPAM_REASONS",
    "DEFAULT_HOLD",
    "DEFAULT_REJECT",
    "Decision",
    "FLAGGED_CATEGORIES",
    "GROUP_HOSTILE_SCORES",
    "HOLD",
    "MIN_HOLD",
    "UNNAMED_GROUP_IDENTITY_HOLD",
    "ModerationContext",
    "OffHours",
    "PUBLISH",
    "REJECT",
    "Reason",
    "Rule",
    "RuleSet",
    "SPAM_PHRASES",
    "SPAM_PHRASE_SCORE",
    "SEVERITY",
    "SIGNALS",
    "TRUST_SHIFT",
    "Thresholds",
    "domain_key",
    "fingerprint",
    "is_blatant_spam",
    "links_in",
    "moderate",
    "moderate_many",
    "name_looks_commercial",
    "signal_reasons",
]
