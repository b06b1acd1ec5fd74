"""Threads within a batch of items: which item each new one answers (stored before, or in the
batch, whichever comes first in it), and the parent and thread root written on the rows: before
the insert for replies to items stored before, in a few UPDATEs after it for replies within the
batch. Used by the pipeline's storing (`palabre.conversations.pipeline`)."""

from __future__ import annotations

from django.db import connections, router

from palabre import bulk
from palabre.conversations.models import Item
from palabre.orgs.models import Channel

_stored_parents = bulk.Prepared(
    lambda channel_id, external_ids: (
        Item.objects.select_for_update()
        .filter(channel_id=channel_id, external_id__any=external_ids)
        .order_by("external_id")
        .only("pk", "external_id", "thread_root_id")
    )
)


def plan(channel: Channel, new: list[Item]) -> dict[str, Item]:
    """The parent of each item created in this batch (by the child's external id), as storing them
    one after the other would leave it: a reply finds its parent (stored before, or earlier in the
    batch), an earlier reply of the batch finds the parent that comes later in it, and two items
    naming each other as parent stay unlinked where linking would close a loop. The items stored
    before that the batch names are read once."""
    position = {item.external_id: index for index, item in enumerate(new)}
    outside = {
        i.parent_external_id for i in new if i.parent_external_id and i.parent_external_id not in position
    }
    stored = (
        {parent.external_id: parent for parent in _stored_parents(channel.pk, sorted(outside))}
        if outside
        else {}
    )
    parent_of: dict[str, Item] = {}  # external ids are unique in a channel

    def below(candidate: Item, ancestor: Item) -> bool:
        # Items stored before this batch never sit under one of its new items: only links made
        # here can put them there, and those are in `parent_of`.
        seen: set[str] = set()
        current: Item | None = candidate
        while current is not None and current.external_id not in seen:
            if current.external_id == ancestor.external_id:
                return True
            seen.add(current.external_id)
            current = parent_of.get(current.external_id)
        return False

    waiting: dict[str, list[Item]] = {}  # earlier items of the batch, by the parent they name
    for index, item in enumerate(new):
        wanted = item.parent_external_id
        if wanted:
            if wanted in stored:
                parent_of[item.external_id] = stored[wanted]
            elif wanted in position and position[wanted] < index:
                parent = new[position[wanted]]
                if not below(parent, item):
                    parent_of[item.external_id] = parent
            else:
                waiting.setdefault(wanted, []).append(item)
        for orphan in waiting.pop(item.external_id, []):
            if orphan.external_id not in parent_of and not below(item, orphan):
                parent_of[orphan.external_id] = item
    return parent_of


def _root_of(item: Item, parent_of: dict[str, Item]) -> int:
    seen: set[str] = set()
    current = item
    while current.external_id in parent_of and current.external_id not in seen:
        seen.add(current.external_id)
        current = parent_of[current.external_id]
    # The top of the batch's links: an item stored before keeps its thread's root.
    return current.thread_root_id or current.pk


def link_to_stored(new: list[Item], parent_of: dict[str, Item]) -> None:
    """Before the insert: replies to items stored before get their parent and thread root in the
    row itself (no update afterwards)."""
    for item in new:
        parent = parent_of.get(item.external_id)
        if parent is not None and parent.pk is not None:
            item.parent = parent
            item.thread_root_id = parent.thread_root_id or parent.pk


def link_within(new: list[Item], parent_of: dict[str, Item]) -> None:
    """After the insert: replies to items of the batch, now that those have an id."""
    linked = [item for item in new if item.external_id in parent_of and item.parent_id is None]
    for item in linked:
        item.parent = parent_of[item.external_id]
        item.thread_root_id = _root_of(item, parent_of)
    _write_links(linked)


# Rows per UPDATE of the links: 5 parameters a row, under SQLite's oldest limit of 999 a statement.
LINKS_PER_UPDATE = 150


def _write_links(linked: list[Item]) -> None:
    """The parent and thread root of these items, in one UPDATE per LINKS_PER_UPDATE rows.
    bulk_update() compiles a CASE expression per row and field through the ORM: for the quarter of
    a batch that replies within it, that cost half as much CPU as inserting the whole batch."""
    if not linked:
        return
    connection = connections[router.db_for_write(Item)]
    quote = connection.ops.quote_name
    table = quote(Item._meta.db_table)
    pk, parent, root = (quote(Item._meta.get_field(name).column) for name in ("id", "parent", "thread_root"))
    with connection.cursor() as cursor:
        for start in range(0, len(linked), LINKS_PER_UPDATE):
            rows = linked[start : start + LINKS_PER_UPDATE]
            whens = " ".join(["WHEN %s THEN %s"] * len(rows))
            cursor.execute(
                f"UPDATE {table} SET {parent} = CASE {pk} {whens} END, {root} = CASE {pk} {whens} END "
                f"WHERE {pk} IN ({', '.join(['%s'] * len(rows))})",
                [value for item in rows for value in (item.pk, item.parent_id)]
                + [value for item in rows for value in (item.pk, item.thread_root_id)]
                + [item.pk for item in rows],
            )
