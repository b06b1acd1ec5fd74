"""Every state change of the inbox: checks, write, audit entry, tasks enqueued on commit.

Views and the API call these; the analyser (`analyse_for_inbox`) keeps each thread's row current.
"""

from __future__ import annotations

from palabre.inbox.services.assignment import (
    PRESENCE_SECONDS,
    assign,
    auto_assign,
    set_status,
    touch_presence,
)
from palabre.inbox.services.background import overnight, refresh_open, send_digest, warn_breaches
from palabre.inbox.services.library import (
    delete_article,
    delete_saved_reply,
    delete_view,
    save_article,
    save_saved_reply,
    save_view,
)
from palabre.inbox.services.notes import MAX_NOTE_CHARS, add_note, mark_notifications_read
from palabre.inbox.services.preferences import parse_week, update_profile, update_settings
from palabre.inbox.services.reading import (
    User,
    _repliers,
    answered_post,
    business_hours,
    configured_hours,
    conversation_for,
    forget_cached_hours,
    is_brand_item,
    is_out_of_hours,
    profile_for,
    settings_for,
)
from palabre.inbox.services.replies import (
    MAX_REPLY_CHARS,
    RECENT_REPLIES,
    ReplyLength,
    ReplyNeedsConfirmation,
    delivery_of,
    fill_saved_reply,
    personalisation_warnings,
    reply_length,
    reply_variables,
    retry_reply,
    send_reply,
    signature_of,
    signed,
)
from palabre.inbox.services.threads import (
    ACK_FRESHNESS,
    _spam,
    analyse_batch_for_inbox,
    analyse_for_inbox,
    refresh_after_review,
    refresh_conversation,
)

__all__ = [
    "ACK_FRESHNESS",
    "MAX_NOTE_CHARS",
    "MAX_REPLY_CHARS",
    "PRESENCE_SECONDS",
    "RECENT_REPLIES",
    "ReplyLength",
    "ReplyNeedsConfirmation",
    "User",
    "_repliers",
    "_spam",
    "add_note",
    "analyse_batch_for_inbox",
    "analyse_for_inbox",
    "answered_post",
    "assign",
    "auto_assign",
    "business_hours",
    "configured_hours",
    "conversation_for",
    "delete_article",
    "delete_saved_reply",
    "delete_view",
    "delivery_of",
    "fill_saved_reply",
    "forget_cached_hours",
    "is_brand_item",
    "is_out_of_hours",
    "mark_notifications_read",
    "overnight",
    "parse_week",
    "personalisation_warnings",
    "profile_for",
    "refresh_after_review",
    "refresh_conversation",
    "refresh_open",
    "reply_length",
    "reply_variables",
    "retry_reply",
    "save_article",
    "save_saved_reply",
    "save_view",
    "send_digest",
    "send_reply",
    "set_status",
    "settings_for",
    "signature_of",
    "signed",
    "touch_presence",
    "update_profile",
    "update_settings",
    "warn_breaches",
]
