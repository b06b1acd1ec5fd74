"""Analytics' team figures: each brand answer's thread row is found by its root; this index also
carries the row's first reply author and assignee, so that PostgreSQL reads the member an answer
counts for from the index alone (no row fetched per answer; INCLUDE is PostgreSQL's)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0005_conversation_first_reply_author"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                fields=["root"], include=("first_reply_author", "assignee"), name="inbox_conv_root_member"
            ),
        ),
    ]
