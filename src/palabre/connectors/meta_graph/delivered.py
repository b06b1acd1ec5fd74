"""Finding what an interrupted attempt made: the Graph API has no idempotency key, so before an
action whose outcome is unknown is sent again, the account's latest comments, posts or messages are
read for one with the action's text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from palabre.connectors.base import (
    MalformedPayload,
)
from palabre.connectors.meta_graph import (
    FIND_SKEW,
    parse_time,
)


def pending_action(channel, idempotency_key: str):
    """The outbound action an interrupted attempt was for, with its item and the item's parent."""
    from palabre.connectors.models import OutboundAction

    return (
        OutboundAction.objects.select_related("item", "item__parent")
        .for_key(channel, idempotency_key)
        .first()
    )


def delivered_among(
    candidates: Any,
    *,
    action,
    mine: Callable[[dict], bool],
    text_field: str,
    time_field: str,
    label: str,
) -> dict | None:
    """Among the account's latest comments, posts or messages, the one an interrupted attempt made:
    the account's (`mine`), with the action's text, since the action was queued, and no other
    action's."""
    from palabre.connectors.models import OutboundAction

    if not isinstance(candidates, list):
        raise MalformedPayload(f"{label}: the latest comments, posts or messages are not a list.")
    taken = set(
        OutboundAction.objects.filter(
            channel_id=action.channel_id,
            external_id__in=[str(c.get("id")) for c in candidates if isinstance(c, dict)],
        )
        .exclude(pk=action.pk)
        .values_list("external_id", flat=True)
    )
    wanted = " ".join(action.text.split())
    try:
        for candidate in candidates:
            if (
                mine(candidate)
                and " ".join(str(candidate.get(text_field) or "").split()) == wanted
                and parse_time(candidate[time_field]) >= action.created_at - FIND_SKEW
                and str(candidate["id"]) not in taken
            ):
                return candidate
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MalformedPayload(f"{label}: a candidate lacks {error}") from error
    return None
