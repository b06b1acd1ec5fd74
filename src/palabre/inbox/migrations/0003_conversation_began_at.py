"""Each thread's beginning (its root's `created_at`) kept on its row, for analytics' periods; the
existing rows are filled from their roots."""

from django.conf import settings
from django.db import migrations, models

BACKFILL = (
    "UPDATE inbox_conversation SET began_at = "
    "(SELECT i.created_at FROM conversations_item i WHERE i.id = inbox_conversation.root_id)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0006_analytics_indexes"),
        ("inbox", "0002_conversation_tags_manual_priority"),
        ("orgs", "0003_more_platforms"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="began_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(fields=["organisation", "began_at"], name="inbox_conv_began"),
        ),
    ]
