"""PostgreSQL only: the period's items split by analytics' substantive-comment test, each half
indexed by (organisation, created_at) with what the comments' figures read (contact, kind, author,
channel) carried in the index.

The dashboard then counts a period's comments and its substantive ones per contact from these two
indexes alone (no row fetched, no regular expression run at read time): PostgreSQL evaluates the
test once per item, when the item is written. Partial indexes on a regular expression are
PostgreSQL's: SQLite computes the figures from the rows, as before, and gets no index here (it
would run Python's REGEXP on every insert, and a write from a client without Django's function
would fail). Built CONCURRENTLY, so a live server keeps ingesting while the indexes are made.
"""

from django.db import migrations

# analytics.metrics.sql.SUBSTANTIVE, written here as the query sends it (the planner uses a partial
# index only when the query's condition is the index's own); a test checks that they agree.
SUBSTANTIVE = r"\w+\W+\w"
INDEXES = {
    "item_substantive": f"\"text\" ~ '{SUBSTANTIVE}'",
    "item_not_substantive": f"NOT (\"text\" ~ '{SUBSTANTIVE}')",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, condition in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON conversations_item "
            "(organisation_id, created_at) INCLUDE (contact_id, kind, author_id, channel_id) "
            f"WHERE {condition}"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("conversations", "0007_item_contact_created_covering"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
