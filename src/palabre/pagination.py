"""Keyset (cursor) pagination over (created_at, id), newest first: stable while new rows arrive."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet


@dataclass
class Page:
    rows: list
    next_cursor: str | None


def encode_cursor(created_at: datetime, pk: int) -> str:
    raw = json.dumps([created_at.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_ROW_ID = 2**63 - 1  # the databases' bigint


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The cursor's instant and row id; ValidationError naming `cursor` for anything Palabre could
    not have given: a client may send any text, and an instant a year 1 or 9999 away from UTC
    overflowed when the database adapter turned it to UTC (a server error on SQLite)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        instant, row_id = cursor_instant(created_at), cursor_row_id(pk)
        return instant, row_id
    except (ValueError, TypeError, OverflowError) as error:
        raise ValidationError({"cursor": "This cursor is not one Palabre gave."}) from error


def cursor_instant(value: str) -> datetime:
    """An instant read from a cursor: with its offset, and one that UTC can hold (ValueError or
    OverflowError otherwise)."""
    instant = datetime.fromisoformat(value)
    if instant.utcoffset() is None:
        raise ValueError(value)
    instant.astimezone(UTC)
    return instant


def cursor_row_id(value: object) -> int:
    row_id = int(value)  # type: ignore[call-overload]
    if not 0 < row_id <= MAX_ROW_ID:
        raise ValueError(value)
    return row_id


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
