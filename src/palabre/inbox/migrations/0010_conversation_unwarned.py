"""The breaches nobody was told of yet, by an index of their own (partial: the rows waiting for an
answer that no warning went out for), so that the tick's read does not grow with the threads that
have waited past their target for long. Built CONCURRENTLY on PostgreSQL: a live server keeps
writing thread rows meanwhile."""

from django.db import migrations, models
from django.db.models import Q

NAME = "inbox_conv_unwarned"
INDEX = models.Index(
    fields=["organisation", "first_response_due_at"],
    condition=Q(awaiting_reply=True, sla_warned_at=None),
    name=NAME,
)


def _model(apps):
    return apps.get_model("inbox", "Conversation")


def build(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_index(_model(apps), INDEX)
        return
    run = schema_editor.execute
    run(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")  # left invalid by an interrupted run
    run(
        f"CREATE INDEX CONCURRENTLY {NAME} ON inbox_conversation (organisation_id, first_response_due_at) "
        "WHERE awaiting_reply AND sla_warned_at IS NULL"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.remove_index(_model(apps), INDEX)
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [("inbox", "0009_conversation_waiting")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="conversation", index=INDEX)],
            database_operations=[migrations.RunPython(build, drop, elidable=False)],
        ),
    ]
