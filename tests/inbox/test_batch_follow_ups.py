"""The inbox stage's follow-ups (assignment, on-call alert, acknowledgement) read the batch's rows
again once committed, only where the organisation's settings ask for one of them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from palabre.conversations.pipeline import analyse_items, ingest_items
from palabre.inbox.models import InboxSettings
from palabre.inbox.services.reading import settings_for

pytestmark = pytest.mark.django_db


def _analyse(channel, incoming_item, prefix, capture):
    stored = ingest_items(
        channel=channel,
        incoming=[
            incoming_item(f"{prefix}{n}", text="Vous livrez le samedi ?", author=f"p{n}") for n in range(4)
        ],
        analyse=False,
    )
    with CaptureQueriesContext(connection) as queries, capture(execute=True):
        analyse_items([i.pk for i, _c in stored.items], stored.created_ids)
    return [q["sql"] for q in queries.captured_queries]


def _reads_rows_again(sqls) -> bool:
    return any(
        sql.startswith('SELECT "inbox_conversation"') and '"inbox_conversation"."id" IN' in sql
        for sql in sqls
    )


def test_no_follow_up_asked_no_rows_read_again(channel, incoming_item, django_capture_on_commit_callbacks):
    settings_for(channel.organisation)  # the defaults: no assignment, no on-call, no acknowledgement
    assert not _reads_rows_again(_analyse(channel, incoming_item, "a", django_capture_on_commit_callbacks))


@pytest.mark.parametrize(
    "asked",
    [{"auto_assign": True}, {"acknowledgements": {"1": "Merci, nous revenons vers vous."}}],
)
def test_a_follow_up_asked_reads_the_rows_once_committed(
    channel, incoming_item, django_capture_on_commit_callbacks, asked
):
    settings_for(channel.organisation)
    if "acknowledgements" in asked:
        asked = {"acknowledgements": {str(channel.pk): asked["acknowledgements"]["1"]}}
    InboxSettings.objects.filter(organisation=channel.organisation).update(**asked)
    assert _reads_rows_again(_analyse(channel, incoming_item, "b", django_capture_on_commit_callbacks))
