"""Background work of the drop-in protocols: storing the comments the Akismet-compatible API answered
for."""

from __future__ import annotations

import json
from datetime import datetime

from django_tasks import task

from palabre.moderation import engine
from palabre.moderation.models import ModerationSite


@task()
def store_checked_comments() -> dict:
    """Store the comments the Akismet-compatible API answered for (see `compat.journal`)."""
    from palabre.compat.journal import store_waiting

    return store_waiting()


@task()
def record_checked_comment(
    site_id: int, params: dict[str, str], guid: str, decision: str, checked_at: str
) -> dict:
    """Store a comment the Akismet-compatible API answered for, with the decision it answered.
    Checks are now kept in `CheckedComment` rows; this task stays for those queued before.
    `decision` is the engine's decision as JSON ("" when a moderator's decision stands): one string
    for the task queue to store, not a tree to walk. Safe to run twice: the item is keyed by the
    comment's guid and a stored decision is kept."""
    from palabre.compat.akismet.check import store_checked_comment

    site = ModerationSite.objects.select_related("organisation", "channel").filter(pk=site_id).first()
    if site is None:
        return {"site": site_id, "skipped": "gone"}
    item, _created = store_checked_comment(
        site,
        params,
        guid,
        engine.Decision.from_dict(json.loads(decision)) if decision else None,
        checked_at=datetime.fromisoformat(checked_at),
    )
    return {"site": site_id, "item": item.pk}
