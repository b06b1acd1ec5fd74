"""Publishing pages: the editorial calendar (month, week), a post with its variants, guardrail
coaching, comments and approval, the guardrail settings.

Thin on purpose: reads here and in `services`, every change through `services`.
"""

from __future__ import annotations

from palabre.publishing.views.calendar import calendar, move
from palabre.publishing.views.common import POST_STATUS_LABELS, STATE_STYLES, highlight
from palabre.publishing.views.media import media_describe, media_file, media_remove, media_upload
from palabre.publishing.views.posts import post, post_new, preview, preview_context, variant_save
from palabre.publishing.views.settings import check, dashboard_panel, policy, release
from palabre.publishing.views.workflow import (
    post_approve,
    post_comment,
    post_delete,
    post_reject,
    post_submit,
    variant_remove,
)

__all__ = [
    "POST_STATUS_LABELS",
    "STATE_STYLES",
    "calendar",
    "check",
    "dashboard_panel",
    "highlight",
    "media_describe",
    "media_file",
    "media_remove",
    "media_upload",
    "move",
    "policy",
    "post",
    "post_approve",
    "post_comment",
    "post_delete",
    "post_new",
    "post_reject",
    "post_submit",
    "preview",
    "preview_context",
    "release",
    "variant_remove",
    "variant_save",
]
