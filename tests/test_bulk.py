"""`palabre.bulk`: `insert` writes what bulk_create writes (through COPY on PostgreSQL), `field__any`
finds what `field__in` finds, and `Prepared` reads what its queryset reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from palabre import bulk
from palabre.conversations.models import Contact, ContactHandle, Item
from palabre.moderation.models import ItemModeration, ModerationDecision

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TEXT = "Ligne 1\nTab\there, \\ antislash, guillemets \" et ', « chevrons », emoji 🎉, \u00a0espace"


def _items(channel, prefix: str) -> list[Item]:
    return [
        Item(
            organisation_id=channel.organisation_id,
            channel=channel,
            external_id=f"{prefix}{n}",
            kind="reply" if n else "comment",
            text=f"{TEXT} {n}",
            created_at=AT,
            metrics={"likes": n, "nested": {"list": [1, 2.5, None, "é"]}},
            raw={} if n else {"palabre_signals": ["a"], "author": {"ip": "203.0.113.7"}},
            parent_external_id=f"{prefix}0" if n else "",
        )
        for n in range(3)
    ]


def _written(
    model, objs, exclude=("id", "external_id", "parent_external_id", "item", "updated_at", "received_at")
) -> list[dict]:
    rows = model.objects.filter(pk__in=[obj.pk for obj in objs]).order_by("pk").values()
    return [
        {k: v for k, v in row.items() if k not in exclude and k.removesuffix("_id") not in exclude}
        for row in rows
    ]


def test_the_rows_written_are_those_bulk_create_writes(db, channel):
    by_django = Item.objects.bulk_create(_items(channel, "django-"))
    ours = bulk.insert(_items(channel, "copy-"))
    assert all(item.pk and not item._state.adding and item._state.db == "default" for item in ours)
    assert len({item.pk for item in ours + by_django}) == 6
    assert _written(Item, ours) == _written(Item, by_django)
    assert [i.text for i in Item.objects.filter(pk__in=[i.pk for i in ours]).order_by("pk")] == [
        f"{TEXT} {n}" for n in range(3)
    ]

    # JSON lists and dicts, choices, a foreign key given as an object saved after it was assigned.
    decisions = []
    for items in (by_django, ours):
        contact = Contact(organisation_id=channel.organisation_id, display_name="Camille")
        handle = ContactHandle(
            organisation_id=channel.organisation_id, contact=contact, platform="site", handle="c"
        )
        contact.save()
        handle.handle = f"camille-{items[0].pk}"
        decisions.append(
            [
                ModerationDecision(
                    organisation_id=item.organisation_id,
                    item=item,
                    source=ModerationDecision.Source.AUTOMATIC,
                    action="hold",
                    status_after="pending",
                    scores={"spam": 0.25, "toxicity": 1e-9},
                    reasons=[{"code": "link", "detail": "« lien »"}],
                    rules_fired=["r1"],
                    spans=[[0, 4]],
                    model_version="v1",
                    created_at=AT,
                )
                for item in items
            ]
        )
        (ContactHandle.objects.bulk_create if items is by_django else bulk.insert)([handle])
    ModerationDecision.objects.bulk_create(decisions[0])
    bulk.insert(decisions[1])
    assert _written(ModerationDecision, decisions[1]) == _written(ModerationDecision, decisions[0])
    assert ContactHandle.objects.filter(contact__display_name="Camille").count() == 2
    # auto_now fields are stamped as bulk_create stamps them.
    states = bulk.insert([ItemModeration(item=item, organisation_id=item.organisation_id) for item in ours])
    assert all(
        state.updated_at is not None for state in ItemModeration.objects.filter(pk__in=[s.pk for s in states])
    )


def test_a_key_that_does_not_hold_writes_nothing_of_the_batch(db, channel):
    bulk.insert(_items(channel, "a-"))
    clash = _items(channel, "b-")
    clash[2].external_id = "a-1"  # (channel, external id) is unique
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert(clash)
    assert not Item.objects.filter(external_id__startswith="b-").exists()


def test_an_unsaved_related_object_is_refused(db, channel):
    contact = Contact(organisation_id=channel.organisation_id, display_name="Camille")
    handle = ContactHandle(
        organisation_id=channel.organisation_id, contact=contact, platform="site", handle="c"
    )
    with pytest.raises(ValueError, match="unsaved related object"):
        bulk.insert([handle])


@pytest.mark.postgres
def test_on_postgresql_the_copy_counts_as_one_query(db, channel):
    bulk.insert(_items(channel, "warm-"))  # the sequence's name, read once per process
    with CaptureQueriesContext(connection) as queries:
        bulk.insert(_items(channel, "counted-"))
    assert [q["sql"].split()[0] for q in queries] == ["SELECT", "COPY"]  # the ids, then the rows


def test_any_finds_the_rows_in_finds(db, channel):
    items = bulk.insert(_items(channel, "any-"))
    pks = [item.pk for item in items]
    wanted = [pks[2], None, pks[0], pks[2], 10**12]  # a repeat, a None and a missing id, as `__in` takes them
    assert list(Item.objects.filter(pk__any=wanted)) == list(Item.objects.filter(pk__in=wanted))
    assert {row.pk for row in Item.objects.filter(pk__any=wanted)} == {pks[0], pks[2]}
    assert list(Item.objects.exclude(pk__any=pks[:1]).filter(pk__in=pks)) == list(
        Item.objects.filter(pk__in=pks[1:])
    )
    # A relation by its id, and across a join.
    assert {i.pk for i in Item.objects.filter(channel_id__any=[channel.pk], pk__in=pks)} == set(pks)
    assert set(
        Item.objects.filter(channel__organisation_id__any=[channel.organisation_id], pk__in=pks)
    ) == set(items)
    assert set(Item.objects.exclude(pk__any=[]).filter(pk__in=pks)) == set(items)  # excluding nothing
    with CaptureQueriesContext(connection) as queries:
        assert list(Item.objects.filter(pk__any=[])) == []
        assert list(Item.objects.filter(pk__any=[None])) == []
    assert len(queries) == 0  # as `__in`: no value, no query


@pytest.mark.postgres
def test_on_postgresql_any_is_one_array_parameter(db, channel):
    pks = [item.pk for item in bulk.insert(_items(channel, "array-"))]
    compiled = [Item.objects.filter(pk__any=pks[:size]).query.sql_with_params() for size in (1, 2, 3)]
    assert len({sql for sql, _params in compiled}) == 1  # the same text whatever the batch's size
    assert '"id" = ANY(%s)' in compiled[0][0]
    # Whole numbers for a whole-number column: the array as one text, which the server reads as
    # an array of the column's type (psycopg would quote a list value by value).
    assert [params for _sql, params in compiled] == [
        ("{" + ",".join(map(str, pks[:size])) + "}",) for size in (1, 2, 3)
    ]
    Item.objects.filter(pk__any=pks).update(language="fr")
    assert Item.objects.filter(pk__in=pks, language="fr").count() == 3


def test_any_prepares_what_is_not_given_as_the_column_holds_it(db, channel):
    items = bulk.insert(_items(channel, "prepared-"))
    pks = [item.pk for item in items]
    assert {i.pk for i in Item.objects.filter(pk__any=[str(pk) for pk in pks])} == set(pks)
    assert {i.pk for i in Item.objects.filter(pk__any=[*pks[:1], str(pks[1])])} == set(pks[:2])
    assert {i.pk for i in Item.objects.filter(pk__any=(pk for pk in pks[1:]))} == set(pks[1:])
    assert {i.pk for i in Item.objects.filter(pk__any={pks[0], None})} == {pks[0]}


def test_any_takes_texts_as_they_are(db, channel):
    odd = ["a,b", "{x}", 'quote " and \\ backslash', "l'apostrophe", "NULL", "", "é 🎉"]
    items = _items(channel, "text-")
    for item, external_id in zip(items, odd, strict=False):
        item.external_id = external_id
    bulk.insert(items)
    found = Item.objects.filter(channel=channel, external_id__any=[*odd, "missing"])
    assert sorted(found.values_list("external_id", flat=True)) == sorted(odd[: len(items)])


def _prepared_reads():
    def thread(organisation_id, roots, held):
        return (
            Item.objects.filter(organisation_id=organisation_id)
            .filter(Q(pk__any=roots) | Q(thread_root_id__any=roots))
            .exclude(pk__any=held)
            .select_related("author", "moderation__last_decision")
            .order_by("pk")
        )

    return {
        "items": bulk.Prepared(lambda pks: Item.objects.filter(pk__any=pks).order_by("pk")),
        "thread": bulk.Prepared(thread),
        "values": bulk.Prepared(
            lambda pks, kind: Item.objects.filter(pk__any=pks, kind=kind).values_list("pk", "external_id")
        ),
        "flat": bulk.Prepared(
            lambda texts: Item.objects.filter(external_id__any=texts).values_list("pk", flat=True)
        ),
    }


def _seen(rows) -> list:
    """Rows as comparable values: a model's fields and the related objects loaded with it."""
    out = []
    for row in rows:
        if isinstance(row, Item):
            author = row._state.fields_cache.get("author")
            out.append(
                (row.pk, row.external_id, row.text, row.metrics, row.created_at, getattr(author, "pk", None))
            )
        else:
            out.append(row)
    return out


def test_prepared_reads_give_the_rows_of_their_queryset(db, channel):
    items = bulk.insert(_items(channel, "prepared-rows-"))
    items += bulk.insert(_items(channel, "prepared-more-"))
    pks = [item.pk for item in items]
    Item.objects.filter(pk__in=pks[1:3]).update(thread_root_id=pks[0])
    reads = _prepared_reads()
    calls = [
        ("items", (pks[:2],)),
        ("items", (pks[3:],)),  # other values, the same statement: their own rows
        ("thread", (channel.organisation_id, [pks[0]], [pks[2]])),
        ("thread", (channel.organisation_id, pks[3:4], pks[:1])),
        ("values", (pks, "reply")),
        ("values", (tuple(pks), "comment")),
        ("flat", (["prepared-rows-1", "prepared-more-2"],)),
        ("flat", ({"prepared-more-0"},)),
        ("items", ([],)),  # nothing to prepare: the queryset itself
        ("values", (pks, None)),
    ]
    for name, values in calls:
        with transaction.atomic():
            assert _seen(reads[name](*values)) == _seen(reads[name].build(*values)), (name, values)
    thread = reads["thread"](channel.organisation_id, [pks[0]], [pks[2]])
    assert [row.pk for row in thread] == [pks[0], pks[1]]
    assert "moderation" in thread[1]._state.fields_cache  # loaded with the row (none: no query to find it)


@pytest.mark.postgres
def test_on_postgresql_a_prepared_read_is_compiled_once(db, channel, monkeypatch):
    pks = [item.pk for item in bulk.insert(_items(channel, "prepared-once-"))]
    read = bulk.Prepared(lambda pks: Item.objects.filter(pk__any=pks).order_by("pk"))
    assert [item.pk for item in read(pks[:1])] == pks[:1]
    compiled = []
    real = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or real(self, *a, **k)
    )
    with CaptureQueriesContext(connection) as captured:
        assert [item.pk for item in read(pks)] == pks
        assert [item.pk for item in read(pks[1:])] == pks[1:]
    assert compiled == []
    assert len(captured) == 2
    locked = bulk.Prepared(lambda pks: Item.objects.select_for_update().filter(pk__any=pks))
    with transaction.atomic():
        assert {item.pk for item in locked(pks)} == set(pks)


def test_update_writes_the_fields_as_bulk_update_does(db, channel):
    items = bulk.insert(_items(channel, "update-"))
    twins = bulk.insert(_items(channel, "update-twin-"))
    handle = ContactHandle.objects.create(
        organisation_id=channel.organisation_id,
        contact=Contact.objects.create(organisation_id=channel.organisation_id, display_name="x"),
        platform="site",
        handle="update-author",
    )
    fields = ["text", "metrics", "raw", "author", "analysed_at", "language", "parent"]
    for n, (item, twin) in enumerate(zip(items, twins, strict=True)):
        for row in (item, twin):
            row.text = f"{TEXT} changé {n}"
            row.metrics = {"n": n, "quote": 'a "b" \\ c'} if n else {}
            row.raw = [] if n == 2 else {"é": [1.5, None, True]}
            row.author = handle if n != 1 else None
            row.analysed_at = AT if n else None
            row.language = "fr" if n else ""
            row.parent_id = None
            row.text_not_written = "ignored"
    bulk.update(items, fields)
    Item.objects.bulk_update(twins, fields)
    exclude = ("id", "external_id", "parent_external_id", "item", "received_at", "updated_at")
    assert _written(Item, items, exclude) == _written(Item, twins, exclude)
    assert [row["text"] for row in _written(Item, items, exclude)] == [f"{TEXT} changé {n}" for n in range(3)]
    bulk.update([], fields)  # nothing to write


def test_update_values_writes_the_columns_given_as_update_does(db, channel):
    items = bulk.insert(_items(channel, "values-"))
    twins = bulk.insert(_items(channel, "values-twin-"))
    fields = ["text", "metrics", "analysed_at"]
    changes = [
        (f"{TEXT} écrit {n}", {"n": n, "quote": 'a "b" \\ c'} if n else {}, AT if n else None)
        for n in range(3)
    ]
    for twin, values in zip(twins, changes, strict=True):
        twin.text, twin.metrics, twin.analysed_at = values
    bulk.update_values(
        Item, fields, [(item.pk, *values) for item, values in zip(items, changes, strict=True)]
    )
    bulk.update(twins, fields)
    exclude = ("id", "external_id", "parent_external_id", "item", "received_at", "updated_at")
    assert _written(Item, items, exclude) == _written(Item, twins, exclude)
    assert [row["metrics"] for row in _written(Item, items, exclude)][1] == {"n": 1, "quote": 'a "b" \\ c'}
    bulk.update_values(Item, fields, [])  # nothing to write
