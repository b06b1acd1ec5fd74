"""The reads of a synchronous decision (the Akismet-compatible API), each one SQL statement.

These run on every request of the compatible APIs, where the ORM's building of a query costs
several times what the query itself costs; so they are written once here, in SQL both SQLite and
PostgreSQL run, from the models' own table and column names.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections

from palabre.conversations.models import Contact, ContactHandle, Item
from palabre.moderation.models import AuthorTrust, ItemModeration, MessageFingerprint, ModerationDecision


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


def statement(build: Callable[[], str]) -> str:
    """A statement built once per database kind (the quoting of names differs), by `build()`."""
    key = (build, connection.vendor)
    if key not in _statements:
        _statements[key] = build()
    return _statements[key]


_statements: dict[tuple[Callable[[], str], str], str] = {}


def run(sql: str, params: list[Any]) -> list[tuple]:
    """Run one of the hot statements and return its rows. On PostgreSQL it is bound on the server
    and prepared once per connection: planning the combined reads costs the server about 1 ms,
    ten times running them. (A pooler in transaction mode needs prepared statements enabled.)
    The connection is looked up once: each attribute read through Django's `connection` proxy
    looks it up again (about 12 times a statement here)."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    # Django's cursor is not opened for nothing here: before a request's first statement it would
    # also check the connection kept from an earlier request with a `SELECT 1` round trip
    # (CONN_HEALTH_CHECKS). The statement itself is that check: if it fails on a kept connection
    # that no longer answers (the server restarted, a pooler closed it), the connection is opened
    # again and the statement sent once more, as the check would have done before it.
    kept = (
        db.connection is not None
        and db.health_check_enabled
        and not db.health_check_done
        and not db.in_atomic_block
    )
    db.validate_thread_sharing()
    db.ensure_connection()
    started = time.monotonic()
    try:
        rows = _run_prepared(db, sql, params)
    except (OperationalError, InterfaceError):
        if not kept or db.is_usable():
            raise
        db.close()
        db.ensure_connection()
        rows = _run_prepared(db, sql, params)
    db.health_check_done = True
    if db.queries_logged:  # counted as Django's cursor counts (assertNumQueries, debug)
        db.queries_log.append({"sql": f"{sql} -- {params!r}", "time": f"{time.monotonic() - started:.3f}"})
    return rows


def _run_prepared(db, sql: str, params: list[Any]) -> list[tuple]:
    from django.db.backends.postgresql.base import ServerBindingCursor

    with db.wrap_database_errors:
        prepared = ServerBindingCursor(db.connection)
        try:
            prepared.execute(sql, params, prepare=True)
            return prepared.fetchall() if prepared.description else []
        finally:
            prepared.close()


def _json(value: Any) -> Any:
    # PostgreSQL's driver decodes JSON; SQLite hands over the text.
    return json.loads(value) if isinstance(value, str) else value


def _when(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def fingerprint_marks(organisation_id: int, fingerprints: set[str]) -> list[tuple[str, bool]]:
    """(fingerprint, is_spam) of the given fingerprints that moderators marked."""
    if not fingerprints:
        return []
    marks, org, fp, spam = (
        _table(MessageFingerprint),
        _column(MessageFingerprint, "organisation"),
        _column(MessageFingerprint, "fingerprint"),
        _column(MessageFingerprint, "is_spam"),
    )
    holes = ", ".join(["%s"] * len(fingerprints))
    rows = run(
        f"SELECT {fp}, {spam} FROM {marks} WHERE {org} = %s AND {fp} IN ({holes})",
        [organisation_id, *sorted(fingerprints)],
    )
    return [(found, bool(is_spam)) for found, is_spam in rows]


@dataclass(frozen=True)
class StoredState:
    """Where a stored item stands: its status and the source, action and reasons of its last decision."""

    status: str
    source: str | None
    action: str | None
    reasons: list[dict[str, Any]]


def _stored_state_sql() -> str:
    state, item, decision = _table(ItemModeration), _table(Item), _table(ModerationDecision)
    return (
        f"SELECT s.{_column(ItemModeration, 'status')}, d.{_column(ModerationDecision, 'source')}, "
        f"d.{_column(ModerationDecision, 'action')}, d.{_column(ModerationDecision, 'reasons')} "
        f"FROM {state} s JOIN {item} i ON i.id = s.{_column(ItemModeration, 'item')} "
        f"LEFT JOIN {decision} d ON d.id = s.{_column(ItemModeration, 'last_decision')} "
        f"WHERE i.{_column(Item, 'channel')} = %s AND i.{_column(Item, 'external_id')} = %s"
    )


def _state_from(status, source, action, reasons) -> StoredState | None:
    if status is None:
        return None
    return StoredState(status=status, source=source, action=action, reasons=_json(reasons) or [])


def stored_state(channel_id: int, external_id: str) -> StoredState | None:
    rows = run(statement(_stored_state_sql), [channel_id, external_id])
    return _state_from(*rows[0]) if rows else None


@dataclass(frozen=True)
class AuthorRecord:
    approved: int
    rejected: int  # rejected or spam
    recent_count: int  # messages in the hour before
    merged: bool  # the contact was merged into another: its trust lives there


def _author_record_sql() -> str:
    handles, contacts, trust, items = (
        _table(ContactHandle),
        _table(Contact),
        _table(AuthorTrust),
        _table(Item),
    )
    contact_of = _column(ContactHandle, "contact")
    return (
        f"SELECT t.{_column(AuthorTrust, 'approved')}, t.{_column(AuthorTrust, 'rejected')}, "
        f"t.{_column(AuthorTrust, 'spam')}, c.{_column(Contact, 'merged_into')}, "
        f"(SELECT COUNT(*) FROM {items} i WHERE %s AND i.{_column(Item, 'author')} = h.id "
        f"AND i.{_column(Item, 'created_at')} >= %s AND i.{_column(Item, 'created_at')} <= %s) "
        f"FROM {handles} h LEFT JOIN {contacts} c ON c.id = h.{contact_of} "
        f"LEFT JOIN {trust} t ON t.{_column(AuthorTrust, 'contact')} = h.{contact_of} "
        f"WHERE h.{_column(ContactHandle, 'organisation')} = %s "
        f"AND h.{_column(ContactHandle, 'platform')} = %s AND h.{_column(ContactHandle, 'handle')} = %s"
    )


def _author_from(approved, rejected, spam, merged_into, recent) -> AuthorRecord | None:
    # The recent count always comes back for a known handle: None means no such handle.
    if recent is None:
        return None
    return AuthorRecord(
        approved=approved or 0,
        rejected=(rejected or 0) + (spam or 0),
        recent_count=recent,
        merged=merged_into is not None,
    )


def author_record(
    *, organisation_id: int, platform: str, handle: str, at: datetime, count_recent: bool = True
) -> AuthorRecord | None:
    """What moderators said of an author known by this handle, and how much they wrote in the hour
    (0 without `count_recent`: see `check_reads`)."""
    rows = run(
        statement(_author_record_sql),
        [bool(count_recent), _when(at - timedelta(hours=1)), _when(at), organisation_id, platform, handle],
    )
    return _author_from(*rows[0]) if rows else None


@dataclass(frozen=True)
class CheckReads:
    """All a comment-check reads of the database before deciding, fetched in one statement."""

    state: StoredState | None  # the comment, when it was stored before (a re-check)
    author: AuthorRecord | None  # its author, when known by this handle
    marks: list[tuple[str, bool]]  # (fingerprint, is_spam) when moderators marked this message


def _check_reads_sql() -> str:
    fingerprints, org, fp, spam = (
        _table(MessageFingerprint),
        _column(MessageFingerprint, "organisation"),
        _column(MessageFingerprint, "fingerprint"),
        _column(MessageFingerprint, "is_spam"),
    )
    # Each part yields at most one row (unique keys); LEFT JOINs to a one-row base keep the
    # parts that found nothing as NULLs.
    return (
        "SELECT st.*, au.*, mk.* FROM (SELECT 1 AS one) base "
        f"LEFT JOIN ({_stored_state_sql()}) st ON 1 = 1 "
        f"LEFT JOIN ({_author_record_sql()}) au ON 1 = 1 "
        f"LEFT JOIN (SELECT {fp}, {spam} FROM {fingerprints} WHERE {org} = %s AND {fp} = %s) mk ON 1 = 1"
    )


def check_reads(
    *,
    channel_id: int,
    external_id: str,
    organisation_id: int,
    platform: str,
    handle: str,
    at: datetime,
    fingerprint: str,
    count_recent: bool = True,
) -> CheckReads:
    """`stored_state`, `author_record` and `fingerprint_marks` for one comment, in one round trip.
    An empty `handle` or `fingerprint` looks nothing up (no row has one).
    `count_recent`: count the author's messages of the hour; only the policy's per-hour limit reads
    that count, and counting costs the server about 0.11 ms a request for each 1,000 messages the
    author wrote in the hour (measured on PostgreSQL): without it the count is 0 and nothing is read."""
    [row] = run(
        statement(_check_reads_sql),
        [
            channel_id,
            external_id,
            bool(count_recent),
            _when(at - timedelta(hours=1)),
            _when(at),
            organisation_id,
            platform,
            handle,
            organisation_id,
            fingerprint,
        ],
    )
    mark_fingerprint, mark_spam = row[9:]
    state = _state_from(*row[:4])
    author = _author_from(*row[4:9])
    marks = [(mark_fingerprint, bool(mark_spam))] if mark_fingerprint is not None else []
    return CheckReads(state=state, author=author, marks=marks)
