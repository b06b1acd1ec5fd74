"""Every state change of listening and crisis: queries, sources, mentions, alerts, crisis mode.

Views, the API and tasks call these functions; they check the actor's permission, write, record an
audit entry and enqueue background work once the transaction commits. One module per sub-domain;
the package re-exports their names.
"""

from __future__ import annotations

# For publishing's guardrails (stable names; the work is in crisis.py).
from palabre.listening.crisis import TrendingTerm, recent_competitor_texts, trending_terms
from palabre.listening.services.alerts import (
    EMERGING_TERM_MIN_SCORE,
    EMERGING_TERMS_FOR_GUARDRAILS,
    OpenAlert,
    add_subscription,
    open_alerts,
    raise_alert,
    remove_subscription,
    set_alert_status,
)
from palabre.listening.services.crisis_mode import (
    DEFAULT_PLAYBOOK,
    current_crisis,
    is_crisis_active,
    playbook_steps,
    set_checklist_step,
    switch_crisis_mode,
    update_playbook,
)
from palabre.listening.services.ingestion import (
    MAX_BACKOFF,
    SOURCE_NAMES,
    IngestResult,
    analyse_item_for_listening,
    analyse_items_for_listening,
    due_sources,
    ingest_candidates,
    poll_source,
)
from palabre.listening.services.scope import _require_same_organisation
from palabre.listening.services.search_queries import (
    MAX_MATCHED_CHARS,
    MAX_QUERY_CHARS,
    QUERY_FIELDS,
    QueryTextError,
    create_query,
    delete_query,
    matcher_for,
    query_error_message,
    update_query,
    validate_query_text,
)
from palabre.listening.services.sources import (
    SOURCE_FIELDS,
    _enqueue_poll,
    create_source,
    delete_source,
    own_channels_source,
    request_poll,
    update_source,
)

__all__ = [
    "DEFAULT_PLAYBOOK",
    "EMERGING_TERMS_FOR_GUARDRAILS",
    "EMERGING_TERM_MIN_SCORE",
    "IngestResult",
    "MAX_BACKOFF",
    "MAX_MATCHED_CHARS",
    "MAX_QUERY_CHARS",
    "OpenAlert",
    "QUERY_FIELDS",
    "QueryTextError",
    "SOURCE_FIELDS",
    "SOURCE_NAMES",
    "TrendingTerm",
    "_enqueue_poll",
    "_require_same_organisation",
    "add_subscription",
    "analyse_item_for_listening",
    "analyse_items_for_listening",
    "create_query",
    "create_source",
    "current_crisis",
    "delete_query",
    "delete_source",
    "due_sources",
    "ingest_candidates",
    "is_crisis_active",
    "matcher_for",
    "open_alerts",
    "own_channels_source",
    "playbook_steps",
    "poll_source",
    "query_error_message",
    "raise_alert",
    "recent_competitor_texts",
    "remove_subscription",
    "request_poll",
    "set_alert_status",
    "set_checklist_step",
    "switch_crisis_mode",
    "trending_terms",
    "update_playbook",
    "update_query",
    "update_source",
    "validate_query_text",
]
