"""Analytics' team figures: the index on items by (author, created_at), through which the brand's
answers of a period are found, also carries the organisation, channel, kind and thread root, so
that PostgreSQL reads the answers from the index alone instead of fetching each item's row (the
INCLUDE columns are PostgreSQL's; SQLite gets the plain index, as before)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0009_pending_analysis"),
        ("orgs", "0004_tokens_inbox_manage"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="item", name="item_author_created"),
        migrations.AddIndex(
            model_name="item",
            index=models.Index(
                fields=["author", "created_at"],
                include=("organisation", "channel", "kind", "thread_root"),
                name="item_author_created",
            ),
        ),
    ]
