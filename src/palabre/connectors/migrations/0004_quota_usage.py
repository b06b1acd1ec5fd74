# Each channel's spending of a platform's daily quota (YouTube Data API units).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0003_permissions_checked"),
        ("orgs", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="QuotaUsage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("units", models.PositiveIntegerField(default=0)),
                ("exhausted", models.BooleanField(default=False)),
                (
                    "channel",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="orgs.channel"
                    ),
                ),
            ],
            options={
                "verbose_name": "platform quota usage",
                "constraints": [
                    models.UniqueConstraint(fields=("channel", "day"), name="connectors_quota_one_a_day")
                ],
            },
        ),
    ]
