"""Timestamps read from PostgreSQL by psycopg's C loader.

Django reads every `timestamptz` through a loader of its own, a subclass of psycopg's pure-Python
one that puts its time zone on the value: about 5 us a value, ten values an item in the pipeline's
reads (its items, their threads, moderation states). psycopg's C loader (psycopg[binary]) parses
the same text in under 1 us, but Django's loader cannot derive from it. So each new connection gets
a loader that calls the C one and puts Django's time zone on the value, as Django's does; it
carries the `timezone` Django compares before each cursor, so Django keeps it, and where the two
differ (a test that changes the time zone) Django puts its own back on the cursor.
"""

from __future__ import annotations

from typing import Any

__all__ = ["use_c_timestamp_loader"]


def use_c_timestamp_loader(sender: Any, connection: Any, **_kwargs: Any) -> None:
    """`connection_created` receiver: on a PostgreSQL connection whose psycopg has its C
    implementation, timestamps are read by the C loader, with Django's time zone put on them."""
    if connection.vendor != "postgresql":
        return
    import psycopg
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    oid = psycopg.postgres.types["timestamptz"].oid
    parse = psycopg.postgres.adapters.get_loader(oid, Format.TEXT)
    if parse is None or psycopg.pq.__impl__ == "python":
        return  # no C loader: Django's stays

    class CTimestampLoader(Loader):
        timezone = connection.timezone

        def __init__(self, oid: int, context: Any = None):
            super().__init__(oid, context)
            self._parse = parse(oid, context).load

        def load(self, data: Any) -> Any:
            return self._parse(data).replace(tzinfo=self.timezone)

    connection.connection.adapters.register_loader(oid, CTimestampLoader)
