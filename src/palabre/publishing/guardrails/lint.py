"""Every guardrail on one text, in a stated order."""

from __future__ import annotations

from typing import Any

from palabre.publishing.guardrails.content import (
    check_promotion_ratio,
    check_sensitive,
    check_similarity,
    check_stuffing,
    check_trending,
)
from palabre.publishing.guardrails.contests import check_contest_rules
from palabre.publishing.guardrails.tone import (
    check_charter,
    check_open_alerts,
    check_shouting,
    check_spokesperson,
    check_toxic,
)
from palabre.publishing.guardrails.verdicts import Finding, GuardrailContext, Verdict, verdict_of
from palabre.publishing.guardrails.words import tokenize


def check(text: str, context: GuardrailContext | None = None, *, moderation_decision: Any = None) -> Verdict:
    """Every guardrail on one text."""
    context = context or GuardrailContext()
    tokens = tokenize(text)
    findings: list[Finding] = []
    findings += check_spokesperson(text, context)
    findings += check_sensitive(text, context, tokens)
    findings += check_trending(text, context, tokens)
    findings += check_charter(text, context, tokens)
    findings += check_toxic(text, context, moderation_decision)
    findings += check_similarity(text, context)
    findings += check_promotion_ratio(text, context)
    findings += check_stuffing(text, context)
    findings += check_shouting(text, context)
    findings += check_open_alerts(text, context)
    findings += check_contest_rules(text, context)
    return verdict_of(findings)
