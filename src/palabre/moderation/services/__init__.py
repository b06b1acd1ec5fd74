"""Moderation state changes: automatic decisions on items, moderators' reviews, rules and policy, sites.

One module per sub-domain; the package re-exports their names, so callers import from
`palabre.moderation.services` whichever module holds a function.
"""

from __future__ import annotations

from palabre.moderation.services.context import (
    author_before_storing,
    cached_policy,
    context_for_item,
    forget_cached_policy,
    off_hours_policy,
    organisation_context,
    policy_for,
    ruleset_for,
)
from palabre.moderation.services.decisions import (
    STATUS_FOR_ACTION,
    analyse_for_moderation,
    check_text,
    moderate_batch,
    moderate_item,
    record_decided,
)
from palabre.moderation.services.review import (
    LEARNING_LIMIT,
    LEARNING_STEP,
    REVIEW_ACTIONS,
    UNDO,
    feedback_for_training,
    hide_site_comment,
    queue,
    report_item,
    review_item,
    undo_limits,
    undo_review,
    undoable,
)
from palabre.moderation.services.rules import (
    MAX_OFF_HOURS_TIGHTENING,
    MAX_PATTERN_RULES,
    POLICY_FIELDS,
    RULE_FIELDS,
    create_rule,
    delete_rule,
    pattern_refusal_message,
    rule_refusal,
    simulate_rule,
    update_policy,
    update_rule,
)
from palabre.moderation.services.sites import (
    MAX_ALLOWED_ORIGINS,
    create_moderation_site,
    origin_of,
    revoke_moderation_site,
    site_for_key,
    update_moderation_site,
)

__all__ = [
    "LEARNING_LIMIT",
    "LEARNING_STEP",
    "MAX_ALLOWED_ORIGINS",
    "MAX_OFF_HOURS_TIGHTENING",
    "MAX_PATTERN_RULES",
    "POLICY_FIELDS",
    "REVIEW_ACTIONS",
    "RULE_FIELDS",
    "STATUS_FOR_ACTION",
    "UNDO",
    "analyse_for_moderation",
    "author_before_storing",
    "cached_policy",
    "check_text",
    "context_for_item",
    "create_moderation_site",
    "create_rule",
    "delete_rule",
    "feedback_for_training",
    "forget_cached_policy",
    "hide_site_comment",
    "moderate_batch",
    "moderate_item",
    "record_decided",
    "off_hours_policy",
    "organisation_context",
    "origin_of",
    "pattern_refusal_message",
    "policy_for",
    "queue",
    "report_item",
    "review_item",
    "revoke_moderation_site",
    "rule_refusal",
    "ruleset_for",
    "simulate_rule",
    "site_for_key",
    "undo_limits",
    "undo_review",
    "undoable",
    "update_moderation_site",
    "update_policy",
    "update_rule",
]
