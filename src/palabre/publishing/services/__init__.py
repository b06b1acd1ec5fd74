"""Every state change of publishing: drafts, variants, comments, approvals, schedules, crisis holds.

A post goes: draft (contributors write, guardrails coach) -> pending (submitted) -> approved (an
approver read the warnings and accepted them; a block stops it) -> each variant scheduled -> at its
time, `publish_due` re-runs the guardrails, holds promotion during a crisis, and hands the variant
to the connectors' outbox with ONE `queue_publication` call keyed `post-variant-<id>`: the outbox
delivers it exactly once, retrying with backoff.
"""

from __future__ import annotations

from palabre.orgs.services import NotInOrganisation
from palabre.publishing.services.access import (
    EDITABLE,
    get_post,
    get_variant,
    keeps_approval_on_reschedule,
    posts_for,
)
from palabre.publishing.services.approval import approve_post, reject_post, submit_post
from palabre.publishing.services.checks import (
    MAX_TERMS,
    MEDIA_ALT_TEXT,
    check_seconds,
    check_text,
    check_variant,
    crisis_active,
    guardrail_context,
    policy_for,
    update_policy,
)
from palabre.publishing.services.crisis import held_variants, hold_for_crisis, on_crisis_changed, release_held
from palabre.publishing.services.drafts import (
    MAX_COMMENT,
    MAX_TEXT,
    MAX_TITLE,
    add_comment,
    after_content_change,
    create_campaign,
    create_post,
    delete_post,
    remove_variant,
    update_post,
)
from palabre.publishing.services.schedule import (
    SETTLED_ACTION,
    best_posting_times,
    delivery_due,
    due_variant_ids,
    publish_due,
    schedule_variant,
)

__all__ = [
    "EDITABLE",
    "MAX_COMMENT",
    "MAX_TERMS",
    "MAX_TEXT",
    "MAX_TITLE",
    "MEDIA_ALT_TEXT",
    "NotInOrganisation",
    "SETTLED_ACTION",
    "add_comment",
    "after_content_change",
    "approve_post",
    "best_posting_times",
    "check_seconds",
    "check_text",
    "check_variant",
    "create_campaign",
    "create_post",
    "crisis_active",
    "delete_post",
    "delivery_due",
    "due_variant_ids",
    "get_post",
    "get_variant",
    "guardrail_context",
    "held_variants",
    "hold_for_crisis",
    "keeps_approval_on_reschedule",
    "on_crisis_changed",
    "policy_for",
    "posts_for",
    "publish_due",
    "reject_post",
    "release_held",
    "remove_variant",
    "schedule_variant",
    "submit_post",
    "update_policy",
    "update_post",
]
