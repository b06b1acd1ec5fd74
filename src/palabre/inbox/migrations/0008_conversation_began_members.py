"""Analytics' team: the index on thread rows by (organisation, began_at) also carries each row's
root and first reply author (with its assignee, already there): the team's statement reads the
members of the threads begun around the period from the index alone and hashes them, instead of
one probe by root for each of the brand's answers (INCLUDE is PostgreSQL's; SQLite keeps the
plain index it has).

On PostgreSQL the new index is built CONCURRENTLY beside the old one, which is then dropped the
same way (as in migration 0007): a live server keeps writing thread rows meanwhile.
"""

from django.db import migrations, models

TABLE, NAME = "inbox_conversation", "inbox_conv_began"
BEFORE = (
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
CARRIED = (*BEFORE, "root", "first_reply_author")
IDS = ("channel", "assignee", "root", "first_reply_author")


def _definition(carried: tuple[str, ...]) -> str:
    columns = ", ".join(f"{name}_id" if name in IDS else name for name in carried)
    return f"{TABLE} (organisation_id, began_at) INCLUDE ({columns})"


def _replace(schema_editor, definition: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite has no INCLUDE: its index stays as it is
    run = schema_editor.execute
    run(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}_next")  # left invalid by an interrupted run
    run(f"CREATE INDEX CONCURRENTLY {NAME}_next ON {definition}")
    run(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")
    run(f"ALTER INDEX {NAME}_next RENAME TO {NAME}")


def with_members(apps, schema_editor):
    _replace(schema_editor, _definition(CARRIED))


def without_members(apps, schema_editor):
    _replace(schema_editor, _definition(BEFORE))


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [("inbox", "0007_conversation_began_covering")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="conversation", name=NAME),
                migrations.AddIndex(
                    model_name="conversation",
                    index=models.Index(fields=["organisation", "began_at"], include=CARRIED, name=NAME),
                ),
            ],
            database_operations=[migrations.RunPython(with_members, without_members, elidable=False)],
        ),
    ]
