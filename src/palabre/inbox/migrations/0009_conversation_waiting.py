"""Each thread row keeps since when it waits for an answer (`waiting_since`) and when its team was
told the answer is overdue (`sla_warned_at`): the periodic tick touches only the threads whose
waiting points moved since the row was computed, and reads only the breaches nobody was told of,
instead of every waiting or breached thread every 5 minutes.

Nullable columns without a default: no table rewrite on PostgreSQL. The rows written before have
no `waiting_since`; the next tick computes those once from their messages, as every tick did
before. `sla_warned_at` is filled from the warnings already sent (one notification per thread
and person), so that nobody is told twice.
"""

from django.db import migrations, models
from django.db.models import Exists, Max, OuterRef, Subquery


def from_warnings_sent(apps, schema_editor):
    Conversation = apps.get_model("inbox", "Conversation")
    Notification = apps.get_model("inbox", "Notification")
    warnings = Notification.objects.filter(kind="sla", conversation_id=OuterRef("pk"))
    Conversation.objects.filter(Exists(warnings)).update(
        sla_warned_at=Subquery(
            warnings.order_by().values("conversation_id").annotate(last=Max("created_at")).values("last")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0008_conversation_began_members"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="waiting_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="conversation",
            name="sla_warned_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(from_warnings_sent, migrations.RunPython.noop, elidable=False),
    ]
