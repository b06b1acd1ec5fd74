"""The customers' items counted per UTC day, channel, author and contact (analytics.CommentDay),
kept by triggers on the items' table on PostgreSQL, and filled from the items already there.

The triggers and the filling run in the migration's transaction: creating a trigger locks the
items' table against writes until the end, so that no item is written between the filling and
the triggers (1M items: see docs/analytics.md). SQLite gets the table, empty, and no triggers."""

from django.db import migrations, models

# The figures' comment kinds and substantive test (analytics.metrics.sql CUSTOMER_KINDS and
# SUBSTANTIVE, and the conversations' substantive indexes), written out: a migration keeps them.
KINDS = "('comment', 'reply', 'mention', 'direct_message', 'review')"
SUBSTANTIVE = r"'\w+\W+\w'"
KEY = "organisation_id, day, channel_id, (COALESCE(author_id, 0)), (COALESCE(contact_id, 0))"
# An item's row: its UTC day, its channel, author and contact.
ROW = "organisation_id, (created_at AT TIME ZONE 'UTC')::date, channel_id, author_id, contact_id"


def _counted(source: str) -> str:
    """The rows of `source` (items) counted per key, in the key's order (rows locked in one order)."""
    return (
        f"SELECT {ROW}, COUNT(*), COUNT(*) FILTER (WHERE text ~ {SUBSTANTIVE}) FROM {source} "
        f"WHERE kind IN {KINDS} GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
    )


ADD = (
    "INSERT INTO analytics_commentday AS d "
    "(organisation_id, day, channel_id, author_id, contact_id, comments, substantive) {rows} "
    f"ON CONFLICT ({KEY}) DO UPDATE SET comments = d.comments + EXCLUDED.comments, "
    "substantive = d.substantive + EXCLUDED.substantive"
)
SAME_KEY = (
    "d.organisation_id = r.o AND d.day = r.dy AND d.channel_id = r.ch "
    "AND COALESCE(d.author_id, 0) = COALESCE(r.a, 0) AND COALESCE(d.contact_id, 0) = COALESCE(r.c, 0)"
)
REMOVE = (
    "UPDATE analytics_commentday d SET comments = d.comments - r.n, substantive = d.substantive - r.s "
    "FROM ({rows}) AS r (o, dy, ch, a, c, n, s) WHERE " + SAME_KEY + "; "
    "DELETE FROM analytics_commentday d USING ({rows}) AS r (o, dy, ch, a, c, n, s) "
    "WHERE " + SAME_KEY + " AND d.comments <= 0"
)
ONE_ROW = "SELECT {row}.organisation_id, {row}.created_at, {row}.channel_id, {row}.author_id, {row}.contact_id, {row}.kind, {row}.text"

FORWARD = [
    f"CREATE UNIQUE INDEX analytics_commentday_key ON analytics_commentday ({KEY}) "
    "INCLUDE (author_id, contact_id, comments, substantive)",
    # Items inserted, a statement at a time (the pipeline's batches: one grouped upsert).
    "CREATE FUNCTION analytics_commentday_added() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    + ADD.format(rows=_counted("added"))
    + "; RETURN NULL; END $$",
    "CREATE TRIGGER analytics_commentday_added AFTER INSERT ON conversations_item "
    "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION analytics_commentday_added()",
    # Items deleted, a statement at a time (an organisation's cascade: one grouped update).
    "CREATE FUNCTION analytics_commentday_removed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    + REMOVE.format(rows=_counted("removed"))
    + "; RETURN NULL; END $$",
    "CREATE TRIGGER analytics_commentday_removed AFTER DELETE ON conversations_item "
    "REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION analytics_commentday_removed()",
    # Items changed in what is counted, a row at a time: the condition is tested without calling
    # the function, so that the items' other updates (their analysis, their metrics) cost nothing.
    "CREATE FUNCTION analytics_commentday_moved() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    + REMOVE.format(rows=_counted(f"({ONE_ROW.format(row='OLD')}) AS old_row"))
    + "; "
    + ADD.format(rows=_counted(f"({ONE_ROW.format(row='NEW')}) AS new_row"))
    + "; RETURN NULL; END $$",
    "CREATE TRIGGER analytics_commentday_moved AFTER UPDATE ON conversations_item FOR EACH ROW WHEN ("
    "OLD.organisation_id <> NEW.organisation_id OR OLD.created_at <> NEW.created_at "
    "OR OLD.channel_id <> NEW.channel_id OR OLD.author_id IS DISTINCT FROM NEW.author_id "
    "OR OLD.contact_id IS DISTINCT FROM NEW.contact_id OR OLD.kind <> NEW.kind "
    "OR OLD.text IS DISTINCT FROM NEW.text) EXECUTE FUNCTION analytics_commentday_moved()",
    ADD.format(rows=_counted("conversations_item")),
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS analytics_commentday_moved ON conversations_item",
    "DROP TRIGGER IF EXISTS analytics_commentday_removed ON conversations_item",
    "DROP TRIGGER IF EXISTS analytics_commentday_added ON conversations_item",
    "DROP FUNCTION IF EXISTS analytics_commentday_moved()",
    "DROP FUNCTION IF EXISTS analytics_commentday_removed()",
    "DROP FUNCTION IF EXISTS analytics_commentday_added()",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("conversations", "0010_item_author_created_covering"),
    ]

    operations = [
        migrations.CreateModel(
            name="CommentDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("organisation_id", models.BigIntegerField()),
                ("day", models.DateField()),
                ("channel_id", models.BigIntegerField()),
                ("author_id", models.BigIntegerField(null=True)),
                ("contact_id", models.BigIntegerField(null=True)),
                ("comments", models.IntegerField()),
                ("substantive", models.IntegerField()),
            ],
        ),
        migrations.RunPython(forward, backward),
    ]
