"""The analysis mark out of the items' indexes (#15): an item stored is listed in `PendingAnalysis`
until the transaction that analyses it marks it, the workers' sweep reads that list, and on
PostgreSQL the mark is a HOT update (no index of the items written a second time)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from palabre.conversations.models import Item, PendingAnalysis
from palabre.conversations.pipeline import (
    analyse_items,
    analyse_items_or_each,
    ingest_items,
    register_stage,
    unregister_stage,
)
from palabre.conversations.services import ingest_item, unanalysed_item_ids

BEFORE = [("conversations", "0008_item_substantive_indexes")]


def _pending() -> dict[int, object]:
    return dict(PendingAnalysis.objects.values_list("item_id", "received_at"))


@pytest.mark.django_db
def test_an_item_waits_in_the_pending_list_from_its_storing_to_its_analysis(channel, incoming_item):
    batch = [
        incoming_item("1", text="Bonjour, ma commande n'est pas arrivée."),
        incoming_item("2", text="Same here", parent="1", kind="reply"),
    ]
    stored = ingest_items(channel=channel, incoming=batch, analyse=False)
    # A reply stored before its parent takes the one-at-a-time path: it is listed too.
    late, _created = ingest_item(
        channel=channel,
        incoming=incoming_item("4", text="Et alors ?", parent="3", kind="reply"),
        analyse=False,
    )
    items = [item for item, _created in stored.items] + [late]
    assert _pending() == {item.pk: item.received_at for item in items}

    analyse_items([item.pk for item in items], [item.pk for item in items])
    assert _pending() == {}
    assert all(item.analysed_at is not None for item in Item.objects.filter(channel=channel))

    # Delivered again once analysed: still analysed, not listed again.
    again = ingest_items(
        channel=channel, incoming=[incoming_item("1", text="Bonjour (modifié)")], analyse=False
    )
    assert [created for _item, created in again.items] == [False]
    assert _pending() == {}


@pytest.mark.django_db
def test_an_item_whose_analysis_fails_stays_listed_and_the_sweep_finds_it(channel, incoming_item):
    stored = ingest_items(
        channel=channel,
        incoming=[incoming_item(str(n), text=f"Message {n}, merci") for n in range(3)],
        analyse=False,
    )
    broken = stored.items[1][0]

    def breaks(items, _created):
        if any(item.pk == broken.pk for item in items):
            raise RuntimeError("a stage broke on this item")

    register_stage("breaks", breaks, order=99)
    try:
        result = analyse_items_or_each([item.pk for item, _c in stored.items], stored.created_ids)
    finally:
        unregister_stage("breaks")
    assert result["failed"] == [broken.pk]
    assert list(_pending()) == [broken.pk]
    assert Item.objects.get(pk=broken.pk).analysed_at is None
    later = timezone.now() + timedelta(minutes=5)
    assert unanalysed_item_ids(older_than=timedelta(seconds=60), now=later) == [broken.pk]


@pytest.mark.django_db
def test_deleting_an_item_deletes_its_place_in_the_list(channel, incoming_item):
    item, _created = ingest_item(channel=channel, incoming=incoming_item("1"), analyse=False)
    item.delete()
    assert _pending() == {}


def _index_definitions() -> dict[str, str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'conversations_item'"
            )
        else:
            cursor.execute(
                "SELECT name, COALESCE(sql, '') FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = 'conversations_item'"
            )
        return dict(cursor.fetchall())


@pytest.mark.django_db
def test_no_index_of_the_items_reads_the_analysis_mark_nor_repeats_a_composite_ones_lead():
    definitions = _index_definitions()
    assert definitions  # the unique key and the composites at least
    assert [name for name, sql in definitions.items() if "analysed_at" in sql] == []
    constraints = connection.introspection.get_constraints(connection.cursor(), Item._meta.db_table)
    single = {tuple(c["columns"]) for c in constraints.values() if c["index"] and len(c["columns"]) == 1}
    for column in ("organisation_id", "channel_id", "author_id", "contact_id"):
        assert (column,) not in single
        # ... and a composite index (or the unique key) still starts with it.
        assert any(
            c["index"] and c["columns"] and c["columns"][0] == column and len(c["columns"]) > 1
            for c in constraints.values()
        ), column


@pytest.mark.django_db
def test_marking_a_batch_analysed_is_a_hot_update_on_postgresql(channel, incoming_item):
    if connection.vendor != "postgresql":
        pytest.skip("HOT updates are PostgreSQL's")
    stored = ingest_items(
        channel=channel,
        incoming=[incoming_item(str(n), text=f"Bonjour, ma commande {n} est en retard") for n in range(20)],
        analyse=False,
    )

    def counts() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_stat_get_xact_tuples_updated(%s::regclass), "
                "pg_stat_get_xact_tuples_hot_updated(%s::regclass)",
                [Item._meta.db_table] * 2,
            )
            return cursor.fetchone()

    before = counts()
    analyse_items([item.pk for item, _c in stored.items], stored.created_ids)
    updated, hot = (after - first for after, first in zip(counts(), before, strict=True))
    assert updated == 20  # the analysis mark (and the language detected), once an item
    assert hot == updated


@pytest.mark.django_db(transaction=True)
def test_the_migration_lists_the_items_left_unanalysed():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    organisation = old.get_model("orgs", "Organisation").objects.create(name="Brand", slug="brand")
    channel = old.get_model("orgs", "Channel").objects.create(
        organisation=organisation, platform="site", handle="blog.example", name="Blog"
    )
    at = timezone.now()
    items = old.get_model("conversations", "Item")
    waiting = items.objects.create(
        organisation=organisation, channel=channel, external_id="1", kind="comment", created_at=at
    )
    items.objects.create(
        organisation=organisation,
        channel=channel,
        external_id="2",
        kind="comment",
        created_at=at,
        analysed_at=at,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert _pending() == {waiting.pk: waiting.received_at}


@pytest.mark.django_db
def test_the_pending_list_is_written_in_statements_of_a_bounded_size(channel, incoming_item, monkeypatch):
    from palabre.conversations import pipeline

    monkeypatch.setattr(pipeline, "PENDING_PER_INSERT", 2)
    with CaptureQueriesContext(connection) as queries:
        stored = ingest_items(
            channel=channel, incoming=[incoming_item(str(n)) for n in range(5)], analyse=False
        )
    inserts = [q for q in queries.captured_queries if 'INTO "conversations_pendinganalysis"' in q["sql"]]
    assert len(inserts) == 3
    assert _pending() == {item.pk: item.received_at for item, _created in stored.items}
