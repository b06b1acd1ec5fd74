"""The drop-in protocols left `moderation` for their own app: tasks queued before the upgrade name
their old module. They are pointed at the new one, so that none is lost (a task row names its
function by import path, and the old path no longer exists)."""

from django.db import migrations

MOVED = {
    "palabre.moderation.tasks.store_checked_comments": "palabre.compat.tasks.store_checked_comments",
    "palabre.moderation.tasks.record_checked_comment": "palabre.compat.tasks.record_checked_comment",
}


def forwards(apps, schema_editor):
    tasks = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in MOVED.items():
        tasks.objects.filter(task_path=old).update(task_path=new)


def backwards(apps, schema_editor):
    tasks = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in MOVED.items():
        tasks.objects.filter(task_path=new).update(task_path=old)


class Migration(migrations.Migration):
    dependencies = [("django_tasks_database", "0021_conditional_partial_index_ordering")]

    operations = [migrations.RunPython(forwards, backwards)]
