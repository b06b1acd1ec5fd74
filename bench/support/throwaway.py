"""Benchmarks fill the database they are given and clean nothing up, and they create accounts
with a known password: each one that writes to the database named by PALABRE_DATABASE_URL calls
`refuse_a_database_in_use()` first, so a production address left in the environment is refused
rather than filled.

A database is a benchmark's when every organisation's short name and every user name in it starts
with "bench-" (what the benchmarks create); an empty or new one is too.
"""

from __future__ import annotations

import sys

BENCH_PREFIX = "bench-"


def database_in_use() -> str | None:
    """Why the configured database is not a throwaway one (an organisation or a user no benchmark
    made), or None. Call after django.setup(), before migrating."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from palabre.orgs.models import Organisation

    tables = set(connection.introspection.table_names())
    if Organisation._meta.db_table in tables:
        foreign = Organisation.objects.exclude(slug__startswith=BENCH_PREFIX).values_list("slug", flat=True)
        if slug := foreign.first():
            return f"it holds the organisation {slug!r}"
    User = get_user_model()
    if User._meta.db_table in tables:
        foreign = User.objects.exclude(username__startswith=BENCH_PREFIX).values_list("username", flat=True)
        if username := foreign.first():
            return f"it holds the user {username!r}"
    return None


def refuse_a_database_in_use() -> None:
    if reason := database_in_use():
        from django.db import connection

        sys.exit(
            f"palabre bench: the database {connection.settings_dict.get('NAME')!r} is in use ({reason}): "
            "benchmarks fill the database they are given, clean nothing up and create accounts with "
            "a known password: give them a throwaway database."
        )
