"""Every state change of the connectors: the outbox, deliveries, pulls, webhooks, channel health.

The outbox (`OutboundAction`) is how anything leaves Palabre. `queue_*` stores an action and
enqueues its delivery once the transaction commits; `deliver` (run by the task) sends it exactly
once:

1. lock the row and re-check it (another worker may have taken it); a `sending` row whose lease
   has run out means a worker died mid-call: the platform may or may not have it. It is sent
   again only after `find_delivered` did not find it (when the connector can look), or when that
   is safe (the platform drops repeats of the idempotency key), and otherwise marked
   `needs_check` for a person;
2. take the channel's rate-limit slot (or come back when it frees);
3. mark `sending` with a lease, commit, call the connector outside any transaction;
4. `sent` (a reply is ingested into its thread as the brand's item), or a retry later with
   exponential backoff and jitter (at least what `RateLimited.retry_after` asks), or `failed`:
   visible, and retried by hand with `retry_action`.
"""

from __future__ import annotations

from palabre.connectors.models import OutboundAction
from palabre.connectors.services.delivery import (
    Step,
    credentials_replaced,
    deliver,
    due_action_ids,
    due_health_ids,
)
from palabre.connectors.services.health import (
    check_channel,
    check_worked,
    connection_result,
    get_channel,
    refresh_health,
    request_pull,
    try_credentials,
)
from palabre.connectors.services.options import option_fields, options_of, update_channel_options
from palabre.connectors.services.outbox import (
    KIND_CAPABILITIES,
    KIND_PERMS,
    MAX_MEDIA,
    MAX_MEDIA_BYTES,
    MAX_TEXT_CHARS,
    actions_for,
    cancel_action,
    confirm_delivered,
    get_action,
    queue_ban_author,
    queue_delete,
    queue_hide,
    queue_private_reply,
    queue_publication,
    queue_reply,
    queue_unhide,
    retry_action,
)
from palabre.connectors.services.pacing import (
    MAX_ERROR_CHARS,
    backoff_seconds,
    connector_state,
    hold_calls,
    lease_seconds,
    max_attempts,
    min_interval,
    record_failure,
    record_success,
    save_connector_state,
    sync_for,
    take_call_slot,
    update_sync_settings,
)
from palabre.connectors.services.platform_moderation import (
    policy_choices,
    policy_of,
    send_moderation,
    update_platform_moderation,
)

__all__ = [
    "KIND_CAPABILITIES",
    "KIND_PERMS",
    "MAX_ERROR_CHARS",
    "MAX_MEDIA",
    "MAX_MEDIA_BYTES",
    "MAX_TEXT_CHARS",
    "OutboundAction",
    "Step",
    "actions_for",
    "backoff_seconds",
    "cancel_action",
    "check_channel",
    "check_worked",
    "confirm_delivered",
    "connection_result",
    "connector_state",
    "credentials_replaced",
    "deliver",
    "due_action_ids",
    "due_health_ids",
    "get_action",
    "get_channel",
    "hold_calls",
    "lease_seconds",
    "max_attempts",
    "min_interval",
    "option_fields",
    "options_of",
    "policy_choices",
    "policy_of",
    "queue_ban_author",
    "queue_delete",
    "queue_hide",
    "queue_private_reply",
    "queue_publication",
    "queue_reply",
    "queue_unhide",
    "record_failure",
    "record_success",
    "refresh_health",
    "request_pull",
    "retry_action",
    "save_connector_state",
    "send_moderation",
    "sync_for",
    "take_call_slot",
    "try_credentials",
    "update_channel_options",
    "update_platform_moderation",
    "update_sync_settings",
]
