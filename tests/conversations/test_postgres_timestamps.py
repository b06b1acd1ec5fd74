"""Timestamps read from PostgreSQL through psycopg's C loader give what Django's own loader gives.

Skipped unless PALABRE_TEST_POSTGRES_URL is set and the suite runs on PostgreSQL
(scripts/test.sh does both).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg.pq import Format

from palabre.conversations.models import Item

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TIMESTAMPTZ = psycopg.postgres.types["timestamptz"].oid

TEXTS = [
    "2026-12-01 09:00:05.123456+00",
    "2026-03-29 01:59:59.999999+02",
    "2026-10-25 02:30:00-05:30",
    "1900-01-01 00:00:00+00:09:21",
    "1970-01-01 00:00:00+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2024-02-29 12:00:00.5+14",
]


def test_the_connection_reads_timestamps_through_the_c_loader(channel, ingest):
    if psycopg.pq.__impl__ == "python":
        pytest.skip("psycopg without its C implementation: Django's loader stays")
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
    assert loader.__name__ == "CTimestampLoader"
    assert loader.timezone == connection.timezone == UTC
    at = datetime(2026, 12, 1, 9, 0, 5, 123456, tzinfo=UTC)
    item = ingest(channel, "ts-1", text="Bonjour", created_at=at)
    read = Item.objects.get(pk=item.pk)
    assert read.created_at == at and read.created_at.tzinfo is UTC


def test_each_value_is_read_as_django_s_own_loader_reads_it():
    class DjangoLoader(BaseTzLoader):
        timezone = connection.timezone

    with connection.cursor() as cursor:
        ours = cursor.cursor.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)(TIMESTAMPTZ, cursor.cursor)
        django = DjangoLoader(TIMESTAMPTZ, cursor.cursor)
        for text in [
            *TEXTS,
            *(str(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=7 * n)) for n in range(400)),
        ]:
            cursor.execute("SELECT %s::timestamptz::text", [text])
            data = cursor.fetchone()[0].encode()
            assert ours.load(data) == django.load(data), text
            assert ours.load(data).tzinfo is django.load(data).tzinfo
        for text in ("infinity", "-infinity"):
            cursor.execute("SELECT %s::timestamptz::text", [text])
            data = cursor.fetchone()[0].encode()
            with pytest.raises(psycopg.DataError):
                django.load(data)
            with pytest.raises(psycopg.DataError):
                ours.load(data)
