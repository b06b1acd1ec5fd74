"""The author of each thread's first inbox reply kept on its row (analytics' team figures); the
existing rows are filled from their replies."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

BACKFILL = (
    "UPDATE inbox_conversation SET first_reply_author_id = (SELECT r.author_id FROM inbox_reply r "
    "WHERE r.conversation_id = inbox_conversation.id ORDER BY r.created_at, r.id LIMIT 1) "
    "WHERE EXISTS (SELECT 1 FROM inbox_reply r WHERE r.conversation_id = inbox_conversation.id)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0004_conversation_business_durations"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="first_reply_author",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
    ]
