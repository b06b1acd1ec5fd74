"""The audit log: every change recorded with who, what, before and after."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import translation

from palabre.orgs.models import (
    AuditEvent,
)
from palabre.orgs.services.actors import Actor


def record(
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    label: str = "",
) -> AuditEvent:
    if target is not None and not label:
        # Stored language-neutral: the log is read in whatever language its reader chose.
        with translation.override(None):
            label = str(target)
    return AuditEvent.objects.create(
        organisation=actor.organisation,
        actor=actor.user,
        actor_token=actor.token,
        actor_label=actor.label,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=label,
        before=before,
        after=after,
    )


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    values = {}
    for name in fields:
        value = getattr(instance, name)
        if isinstance(value, models.Model):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        values[name] = value
    return values
