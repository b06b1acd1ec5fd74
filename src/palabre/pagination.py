"""Keyset (cursor) pagination over (created_at, id), newest first: stable while new rows arrive."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet


@dataclass
class Page:
    rows: list
    next_cursor: str | None


def encode_cursor(created_at: datetime, pk: int) -> str:
    raw = json.dumps([created_at.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(created_at), int(pk)
    except (ValueError, TypeError, json.JSONDecodeError) as error:
        raise ValidationError({"cursor": "This cursor is not one Palabre gave."}) from error


def keyset_page(
    queryset: QuerySet, *, cursor: str | None, limit: int, time_field: str = "created_at"
) -> Page:
    queryset = queryset.order_by(f"-{time_field}", "-pk")
    if cursor:
        created_at, pk = decode_cursor(cursor)
        queryset = queryset.filter(
            Q(**{f"{time_field}__lt": created_at}) | Q(**{time_field: created_at, "pk__lt": pk})
        )
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], time_field), rows[-1].pk) if more and rows else None
    return Page(rows=rows, next_cursor=next_cursor)
