"""Analytics' business durations stored on each thread's row (business seconds to the first
response and to the last status change, whether the first response came out of hours, the
calendar they were counted with); the existing rows are counted with their organisation's hours."""

from django.db import migrations, models


def count_durations(apps, schema_editor):
    from palabre.inbox import durations

    conversation = apps.get_model("inbox", "Conversation")
    settings = apps.get_model("inbox", "InboxSettings")
    organisation = apps.get_model("orgs", "Organisation")
    for organisation_id in (
        conversation.objects.order_by().values_list("organisation_id", flat=True).distinct()
    ):
        hours = durations.organisation_hours(
            settings.objects.filter(organisation_id=organisation_id), organisation, organisation_id
        )
        durations.recount(conversation.objects.filter(organisation_id=organisation_id), hours)


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0003_conversation_began_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="business_to_first_response",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="conversation",
            name="business_to_status_change",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="conversation",
            name="first_response_out_of_hours",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="conversation",
            name="hours_key",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(count_durations, migrations.RunPython.noop),
    ]
