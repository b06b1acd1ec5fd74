"""Tasks queued before the drop-in protocols left `moderation` name their old module: the migration
points them at `compat.tasks`, so that a worker can still import and run them."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

pytestmark = pytest.mark.django_db

task_paths = importlib.import_module("palabre.compat.migrations.0001_task_paths")


def queued(path: str) -> DBTaskResult:
    return DBTaskResult.objects.create(
        task_path=path,
        args_kwargs={"args": [], "kwargs": {}},
        queue_name="default",
        backend_name="default",
        run_after=datetime(2026, 12, 5, 8, 0, tzinfo=UTC),
        exception_class_path="",
        traceback="",
    )


def test_queued_tasks_follow_their_module_and_others_are_left_alone():
    store = queued("palabre.moderation.tasks.store_checked_comments")
    record = queued("palabre.moderation.tasks.record_checked_comment")
    other = queued("palabre.conversations.tasks.analyse_item")

    task_paths.forwards(apps, None)

    for row in (store, record, other):
        row.refresh_from_db()
    assert (store.task_path, record.task_path, other.task_path) == (
        "palabre.compat.tasks.store_checked_comments",
        "palabre.compat.tasks.record_checked_comment",
        "palabre.conversations.tasks.analyse_item",
    )
    assert import_string(store.task_path).name == "store_checked_comments"
    assert import_string(record.task_path).name == "record_checked_comment"
