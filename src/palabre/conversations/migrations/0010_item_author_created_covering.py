"""Analytics' team figures: the index on items by (author, created_at), through which the brand's
answers of a period are found, also carries the organisation, channel, kind and thread root, so
that PostgreSQL reads the answers from the index alone instead of fetching each item's row (the
INCLUDE columns are PostgreSQL's; SQLite keeps the plain index it has).

On PostgreSQL the new index is built CONCURRENTLY beside the old one, which is then dropped the
same way: a live server keeps writing items meanwhile (a plain rebuild locks the table's writes for
as long as it takes, about 4 s a million items).
"""

from django.db import migrations, models

TABLE, NAME = "conversations_item", "item_author_created"
COVERING = f"{TABLE} (author_id, created_at) INCLUDE (organisation_id, channel_id, kind, thread_root_id)"
PLAIN = f"{TABLE} (author_id, created_at)"


def _replace(schema_editor, definition: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite has no INCLUDE: its index stays as it is
    run = schema_editor.execute
    run(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}_next")  # left invalid by an interrupted run
    run(f"CREATE INDEX CONCURRENTLY {NAME}_next ON {definition}")
    run(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")
    run(f"ALTER INDEX {NAME}_next RENAME TO {NAME}")


def covering(apps, schema_editor):
    _replace(schema_editor, COVERING)


def plain(apps, schema_editor):
    _replace(schema_editor, PLAIN)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("conversations", "0009_pending_analysis"),
        ("orgs", "0004_tokens_inbox_manage"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="item", name=NAME),
                migrations.AddIndex(
                    model_name="item",
                    index=models.Index(
                        fields=["author", "created_at"],
                        include=("organisation", "channel", "kind", "thread_root"),
                        name=NAME,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(covering, plain, elidable=False)],
        ),
    ]
