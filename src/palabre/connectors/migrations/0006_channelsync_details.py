# What the platform told at the last connection check beyond the account (quota, tier, rate limit).

import django.core.serializers.json
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0005_outbound_unhide_ban_private_reply"),
    ]

    operations = [
        migrations.AddField(
            model_name="channelsync",
            name="details",
            field=models.JSONField(
                blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder
            ),
        ),
    ]
