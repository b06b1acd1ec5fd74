"""Analytics' care: the index on thread rows by (organisation, began_at), through which a period's
threads are found, also carries every column care reads from them (channel, assignee, intent,
status, the first response and last status change, the stored business durations and their
calendar's key): PostgreSQL then reads the period's threads from the index alone instead of
visiting each row (INCLUDE is PostgreSQL's; SQLite keeps the plain index)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0006_conversation_root_member_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="conversation", name="inbox_conv_began"),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                fields=["organisation", "began_at"],
                include=(
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
                ),
                name="inbox_conv_began",
            ),
        ),
    ]
