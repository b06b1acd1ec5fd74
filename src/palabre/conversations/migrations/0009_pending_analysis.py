"""The analysis mark out of the items' indexes (#15), so that marking a batch analysed is a HOT
update on PostgreSQL: no index written a second time for each item.

- `PendingAnalysis` lists the items stored and not analysed yet (filled here from the items whose
  `analysed_at` is empty, read through the `item_unanalysed` index before it is dropped); the
  workers' sweep reads it instead of that partial index, whose condition on `analysed_at` made
  every analysis mark rewrite all the items' indexes.
- The single-column indexes of the items' organisation, channel, author and contact are dropped:
  each column leads a composite index (organisation, -created_at, -id), the unique key (channel,
  external_id), `item_author_created` and `item_contact_created`, which serve the same lookups and
  the foreign keys' checks.
- PostgreSQL: the items' pages are filled to half (`fillfactor`), so that the analysis mark's new
  row versions find room in the page of the rows they replace (a HOT update needs it; the old
  versions are pruned in place afterwards). It applies to pages written from now on.

Fast at any size: the backfill reads only the items left unanalysed (few, through their index),
the index drops and the fill factor change metadata.
"""

from django.db import migrations, models

# The items' foreign keys that keep no index of their own.
UNINDEXED = ("organisation", "channel", "author", "contact")


def fill_pending(apps, schema_editor):
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"INSERT INTO {quote('conversations_pendinganalysis')} ({quote('item_id')}, {quote('received_at')}) "
        f"SELECT {quote('id')}, {quote('received_at')} FROM {quote('conversations_item')} "
        f"WHERE {quote('analysed_at')} IS NULL"
    )


def drop_single_column_indexes(apps, schema_editor):
    item = apps.get_model("conversations", "Item")
    for name in UNINDEXED:
        column = item._meta.get_field(name).column
        for index in schema_editor._constraint_names(item, [column], index=True):
            schema_editor.execute(schema_editor._delete_index_sql(item, index))


def create_single_column_indexes(apps, schema_editor):
    item = apps.get_model("conversations", "Item")
    for name in UNINDEXED:
        field = item._meta.get_field(name)
        if not schema_editor._constraint_names(item, [field.column], index=True):
            schema_editor.execute(schema_editor._create_index_sql(item, fields=[field]))


def half_filled_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE conversations_item SET (fillfactor = 50)")


def full_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE conversations_item RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0008_item_substantive_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="PendingAnalysis",
            fields=[
                (
                    "item",
                    models.OneToOneField(
                        on_delete=models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="conversations.item",
                    ),
                ),
                ("received_at", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(fill_pending, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="item", name="item_unanalysed"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="item",
                    name="organisation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="items",
                        to="orgs.organisation",
                    ),
                ),
                migrations.AlterField(
                    model_name="item",
                    name="channel",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.PROTECT,
                        related_name="items",
                        to="orgs.channel",
                    ),
                ),
                migrations.AlterField(
                    model_name="item",
                    name="author",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.SET_NULL,
                        related_name="items",
                        to="conversations.contacthandle",
                    ),
                ),
                migrations.AlterField(
                    model_name="item",
                    name="contact",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.SET_NULL,
                        related_name="items",
                        to="conversations.contact",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_single_column_indexes, create_single_column_indexes),
            ],
        ),
        migrations.RunPython(half_filled_pages, full_pages),
    ]
