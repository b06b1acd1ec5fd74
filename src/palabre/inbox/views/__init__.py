"""Inbox pages: the list of threads, one thread with its reply box, and what the team keeps around
them (saved replies, knowledge base, business hours, notifications, the overnight digest).

Thin on purpose: reads through `queries`, every change through `services`.
"""

from __future__ import annotations

from palabre.inbox.views.common import PER_PAGE, REASON_TEXTS, WARNING_TEXTS, reason_texts, warning_texts
from palabre.inbox.views.library import article_delete, articles, saved_replies, saved_reply_delete
from palabre.inbox.views.listing import BULK_DONE, bulk, bulk_restore, inbox, view_delete, view_save
from palabre.inbox.views.preferences import digest, inbox_settings, notifications, profile
from palabre.inbox.views.thread import (
    DELIVERY_ERRORS,
    assign,
    check,
    correct,
    fill,
    note,
    presence,
    reply,
    retry,
    status,
    thread,
)

__all__ = [
    "BULK_DONE",
    "DELIVERY_ERRORS",
    "PER_PAGE",
    "REASON_TEXTS",
    "WARNING_TEXTS",
    "article_delete",
    "articles",
    "assign",
    "bulk",
    "bulk_restore",
    "check",
    "correct",
    "digest",
    "fill",
    "inbox",
    "inbox_settings",
    "note",
    "notifications",
    "presence",
    "profile",
    "reason_texts",
    "reply",
    "retry",
    "saved_replies",
    "saved_reply_delete",
    "status",
    "thread",
    "view_delete",
    "view_save",
    "warning_texts",
]
