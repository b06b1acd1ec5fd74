"""Analytics' team figures: each brand answer's thread row is found by its root; this index also
carries the row's first reply author and assignee, so that PostgreSQL reads the member an answer
counts for from the index alone (no row fetched per answer; INCLUDE is PostgreSQL's, SQLite gets
the plain index). Built CONCURRENTLY on PostgreSQL: a live server keeps writing thread rows."""

from django.conf import settings
from django.db import migrations, models

INDEX = models.Index(
    fields=["root"], include=("first_reply_author", "assignee"), name="inbox_conv_root_member"
)


def create(apps, schema_editor):
    conversation = apps.get_model("inbox", "Conversation")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_index(conversation, INDEX)
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS inbox_conv_root_member")  # left invalid
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY inbox_conv_root_member ON inbox_conversation (root_id) "
        "INCLUDE (first_reply_author_id, assignee_id)"
    )


def drop(apps, schema_editor):
    conversation = apps.get_model("inbox", "Conversation")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.remove_index(conversation, INDEX)
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS inbox_conv_root_member")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("inbox", "0005_conversation_first_reply_author"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="conversation", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop, elidable=False)],
        ),
    ]
