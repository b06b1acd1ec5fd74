"""Analytics' care: the index on thread rows by (organisation, began_at), through which a period's
threads are found, also carries every column care reads from them (channel, assignee, intent,
status, the first response and last status change, the stored business durations and their
calendar's key): PostgreSQL then reads the period's threads from the index alone instead of
visiting each row (INCLUDE is PostgreSQL's; SQLite keeps the plain index it has).

On PostgreSQL the new index is built CONCURRENTLY beside the old one, which is then dropped the
same way: a live server keeps writing thread rows meanwhile.
"""

from django.conf import settings
from django.db import migrations, models

TABLE, NAME = "inbox_conversation", "inbox_conv_began"
CARRIED = (
    "channel",
    "assignee",
    "intent",
    "status",
    "first_responded_at",
    "status_changed_at",
    "business_to_first_response",
    "business_to_status_change",
    "first_response_out_of_hours",
    "hours_key",
)
COLUMNS = ", ".join(f"{name}_id" if name in ("channel", "assignee") else name for name in CARRIED)
COVERING = f"{TABLE} (organisation_id, began_at) INCLUDE ({COLUMNS})"
PLAIN = f"{TABLE} (organisation_id, began_at)"


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
        ("inbox", "0006_conversation_root_member_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="conversation", name=NAME),
                migrations.AddIndex(
                    model_name="conversation",
                    index=models.Index(fields=["organisation", "began_at"], include=CARRIED, name=NAME),
                ),
            ],
            database_operations=[migrations.RunPython(covering, plain, elidable=False)],
        ),
    ]
