"""The one pipeline: items are stored in batches, then analysed per batch, stage by stage, in the
order declared here.

Stages (a stage runs on the whole batch before the next one starts):

====  ============  ==============================================================  ==============
order name          what it does                                                    registered by
====  ============  ==============================================================  ==============
10    language      detects the language of items the connector left without one     conversations
20    moderation    classifiers on the whole batch at once, then the rules: a        moderation
                    decision per item (publish, hold, reject)
30    inbox         projects each touched thread into its inbox row                  inbox
40    listening     matches the organisation's own items against listening queries  listening
====  ============  ==============================================================  ==============

An app adds its stage through the `pipeline_stages` hook (`palabre.hooks`), registered from its
`AppConfig.ready()`; the order number it gives must be the one in `ORDER` (conversations knows no
feature, only the names and their order), so the order is stated once, here, and not by the order
apps happen to load.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connections, router, transaction
from django.utils import timezone

from palabre import bulk, hooks
from palabre.conversations import thread_links
from palabre.conversations.models import Contact, ContactHandle, Item, PendingAnalysis
from palabre.conversations.services import (
    ATTEMPTS,
    IncomingAuthor,
    IncomingItem,
    _current_contact,
    _is_lock_conflict,
    _validate,
    _write,
)
from palabre.orgs.models import Channel

logger = logging.getLogger(__name__)

# The declared order of the analysis stages (see the module's docstring).
ORDER: dict[str, int] = {"language": 10, "moderation": 20, "inbox": 30, "listening": 40}

# A stage gets the batch's items (channel, organisation, author and contact loaded) and the ids of
# those that were created (the others were changed: a re-delivery, an edit).
StageRun = Callable[[list[Item], frozenset[int]], None]


@dataclass(frozen=True)
class Stage:
    name: str
    order: int
    run: StageRun


def _check_order(stage: Stage) -> Stage:
    if stage.name in ORDER and ORDER[stage.name] != stage.order:
        raise ValueError(
            f"Stage {stage.name!r} runs at {ORDER[stage.name]} (conversations.pipeline.ORDER), not {stage.order}"
        )
    return stage


def stages() -> list[Stage]:
    """The stages the apps add through the `pipeline_stages` hook, in their declared order (a
    stage registered later under the same name replaces the earlier one)."""
    return [_check_order(stage) for stage in hooks.ordered(hooks.hook.pipeline_stages())]


@dataclass(frozen=True, eq=False)  # each registration is a plugin of its own
class _OneStage:
    stage: Stage

    @hooks.hookimpl
    def pipeline_stages(self) -> list[Stage]:
        return [self.stage]


def register_stage(name: str, run: StageRun, *, order: int) -> None:
    """Add (or replace) the stage `name` as a plugin of its own: a shorthand of the
    `pipeline_stages` hook for tests and plugins. `order` must be the one `ORDER` declares for it;
    a name that `ORDER` does not know may be registered with its own order."""
    stage = _check_order(Stage(name=name, order=order, run=run))
    hooks.register(_OneStage(stage), name=f"pipeline-stage:{name}")


def unregister_stage(name: str) -> None:
    """Remove a stage `register_stage` added."""
    hooks.unregister(f"pipeline-stage:{name}")


def per_item(analyse: Callable[[Item, bool], None]) -> StageRun:
    """A stage from a function that analyses one item at a time (its queries grow with the batch)."""

    def run(items: list[Item], created: frozenset[int]) -> None:
        for item in items:
            analyse(item, item.pk in created)

    return run


# --- storing ---------------------------------------------------------------------------------


@dataclass
class Refused:
    incoming: IncomingItem
    error: ValidationError


@dataclass
class Stored:
    items: list[tuple[Item, bool]] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    @property
    def created_ids(self) -> frozenset[int]:
        return frozenset(item.pk for item, created in self.items if created)


def ingest_items(
    *, channel: Channel, incoming: Iterable[IncomingItem], analyse: bool = True, skip_invalid: bool = False
) -> Stored:
    """Store a batch of items of one channel, or update those whose (channel, external id) is known.

    Same result as storing them one after the other with `ingest_item`, in a few queries for the
    whole batch: contacts and handles, items and thread links are written in bulk. Idempotent and
    safe under concurrent workers: a batch that meets a row a concurrent one wrote meanwhile is
    rolled back to its savepoint and tried again (it then updates that row).

    An invalid item raises ValidationError before anything is written, unless `skip_invalid`: it
    is then left out and returned in `refused`. An item delivered twice in one batch is stored
    once, with the values of its last delivery. Analysis of the batch is enqueued as one task once
    the transaction commits, unless `analyse` is False (the caller then calls `analyse_items`).
    """
    result = Stored()
    valid: dict[str, IncomingItem] = {}
    for one in incoming:
        try:
            _validate(channel, one)
        except ValidationError as error:
            if not skip_invalid:
                raise
            result.refused.append(Refused(one, error))
            continue
        valid.pop(one.external_id, None)  # a later delivery in the batch wins, in its own place
        valid[one.external_id] = one
    if not valid:
        return result
    batch = list(valid.values())
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                result.items = _write_batch(channel, batch)
            break
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
            # A concurrent ingestion created one of them meanwhile: the next attempt updates it.
        except OperationalError as error:
            if attempt == ATTEMPTS - 1 or not _is_lock_conflict(error):
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    if analyse:
        from palabre.conversations.tasks import analyse_batch

        ids = [item.pk for item, _created in result.items]
        created_ids = sorted(result.created_ids)
        transaction.on_commit(lambda: analyse_batch.enqueue(ids, created_ids))
    return result


# The reads of every batch, compiled once (palabre.bulk.Prepared): the items of the channel with
# these external ids, locked; the replies stored before, waiting for one of them as their parent;
# the handles of these authors, with their contact; the parents stored before, locked.
_known_items = bulk.Prepared(
    lambda channel_id, external_ids: (
        Item.objects.select_for_update()
        .filter(channel_id=channel_id, external_id__any=external_ids)
        .order_by("external_id")
    )
)
_waiting_replies = bulk.Prepared(
    lambda channel_id, external_ids: Item.objects.filter(
        channel_id=channel_id, parent_external_id__any=external_ids, parent__isnull=True
    ).values_list("external_id", flat=True)
)
_known_handles = bulk.Prepared(
    lambda organisation_id, platform, handles: ContactHandle.objects.select_related("contact").filter(
        organisation_id=organisation_id, platform=platform, handle__any=handles
    )
)


def _write_batch(channel: Channel, batch: list[IncomingItem]) -> list[tuple[Item, bool]]:
    external_ids = [one.external_id for one in batch]
    existing = {item.external_id: item for item in _known_items(channel.pk, external_ids)}
    # Replies stored before these items, waiting for them as their parent: rare (a reply delivered
    # before what it answers, or a re-delivered item whose thread is still open), and re-rooting
    # their subtrees is what the one-at-a-time path does best. So is a known item still unlinked.
    waiting_orphans = any(
        external_id not in existing for external_id in _waiting_replies(channel.pk, external_ids)
    )
    if waiting_orphans or any(i.parent_external_id and i.parent_id is None for i in existing.values()):
        return [_write(channel, one) for one in batch]

    handles = _author_handles(channel, [one.author for one in batch])
    now = timezone.now()
    result: list[tuple[Item, bool]] = []
    new: list[Item] = []
    changed: list[Item] = []
    fields = [
        "kind",
        "author",
        "contact",
        "text",
        "url",
        "created_at",
        "metrics",
        "raw",
        "parent_external_id",
        "updated_at",
    ]
    for one in batch:
        author = handles.get(one.author.handle.strip()) if one.author is not None else None
        values = {
            "organisation_id": channel.organisation_id,
            "kind": one.kind,
            "author": author,
            "contact": _current_contact(author),
            "text": one.text,
            "url": one.url,
            "created_at": one.created_at,
            "metrics": one.metrics,
            "raw": one.raw,
            "parent_external_id": one.parent_external_id,
            "updated_at": now,
        }
        if one.language:
            values["language"] = one.language
        item = existing.get(one.external_id)
        if item is None:
            item = Item(channel=channel, external_id=one.external_id, **values)
            new.append(item)
            result.append((item, True))
        else:
            for name, value in values.items():
                setattr(item, name, value)
            changed.append(item)
            result.append((item, False))
    parent_of = thread_links.plan(channel, new) if new else {}
    thread_links.link_to_stored(new, parent_of)
    if new:
        # In key order, as concurrent batches lock and insert: fewer deadlocks between them.
        bulk.insert(sorted(new, key=lambda item: item.external_id))
        _list_pending([item.pk for item in new])
    if changed:
        languages = {one.external_id for one in batch if one.language}
        with_language = [i for i in changed if i.external_id in languages]
        Item.objects.bulk_update(changed, fields)
        if with_language:
            Item.objects.bulk_update(with_language, ["language"])
    thread_links.link_within(new, parent_of)
    return result


# Items per INSERT of the pending list: one parameter each, under SQLite's oldest limit of 999.
PENDING_PER_INSERT = 500


def _list_pending(pks: list[int]) -> None:
    """List the items just inserted as waiting for their analysis, in the storing transaction (the
    workers' sweep reads the list): one `INSERT ... SELECT` from the items per PENDING_PER_INSERT,
    so no model instance is built nor timestamp sent (bulk.insert of the rows cost the client 0.012
    ms an item, this 0.002)."""
    connection = connections[router.db_for_write(PendingAnalysis)]
    quote = connection.ops.quote_name
    pending, items = quote(PendingAnalysis._meta.db_table), quote(Item._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(pks), PENDING_PER_INSERT):
            chunk = pks[start : start + PENDING_PER_INSERT]
            cursor.execute(
                f"INSERT INTO {pending} ({quote('item_id')}, {quote('received_at')}) "
                f"SELECT {quote('id')}, {quote('received_at')} FROM {items} "
                f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )


def _author_handles(channel: Channel, authors: list[IncomingAuthor | None]) -> dict[str, ContactHandle]:
    """The handles of the batch's authors, created (with their contact) when new, their profile
    brought up to date with the last non-empty value delivered; a few queries in all."""
    wanted: dict[str, list[IncomingAuthor]] = {}
    for author in authors:
        if author is not None:
            wanted.setdefault(author.handle.strip(), []).append(author)
    if not wanted:
        return {}
    found = {
        handle.handle: handle
        for handle in _known_handles(channel.organisation_id, channel.platform, list(wanted))
    }
    missing = sorted(handle for handle in wanted if handle not in found)
    known = set(found)
    if missing:
        # A concurrent ingestion creating one of them makes this raise IntegrityError: the whole
        # batch is then tried again, and finds it.
        contacts = bulk.insert(
            [
                Contact(
                    organisation_id=channel.organisation_id,
                    display_name=wanted[handle][0].display_name or handle,
                )
                for handle in missing
            ]
        )
        created = [
            ContactHandle(
                organisation_id=channel.organisation_id,
                contact=contact,
                platform=channel.platform,
                handle=handle,
            )
            for handle, contact in zip(missing, contacts, strict=True)
        ]
        for row in created:
            _take_profile(row, wanted[row.handle])  # inserted with it: no update afterwards
        bulk.insert(created)
        found.update({handle.handle: handle for handle in created})
    changed: dict[str, set[str]] = {}
    for handle, delivered in wanted.items():
        if handle in known:
            names = _take_profile(found[handle], delivered)
            if names:
                changed[handle] = names
    by_fields: dict[tuple[str, ...], list[ContactHandle]] = {}
    for handle, names in changed.items():
        by_fields.setdefault(tuple(sorted(names)), []).append(found[handle])
    for names, rows in by_fields.items():
        ContactHandle.objects.bulk_update(rows, list(names))
    return found


def _take_profile(row: ContactHandle, delivered: list[IncomingAuthor]) -> set[str]:
    """Bring a handle's profile up to the last non-empty value delivered; the names it changed."""
    changed: set[str] = set()
    for author in delivered:
        for name in ("display_name", "profile_url", "followers"):
            value = getattr(author, name)
            if value not in ("", None) and getattr(row, name) != value:
                setattr(row, name, value)
                changed.add(name)
    return changed


# --- analysing -------------------------------------------------------------------------------


def _detect_languages(items: list[Item], created: frozenset[int]) -> None:
    from palabre.nlp.language import detect_languages

    # At once for the batch: a text it holds several times, or differing only by its links,
    # mentions or hashtags (a spam wave, a re-delivery), is detected once.
    unknown = [item for item in items if not item.language and item.text]
    for item, language in zip(unknown, detect_languages([item.text for item in unknown]), strict=True):
        item.language = language
        item._detected_language = True  # written with the analysis time, by mark_batch_analysed


LANGUAGE_STAGE = Stage(name="language", order=ORDER["language"], run=_detect_languages)


def analyse_items(
    item_ids: Iterable[int], created_ids: Iterable[int] = (), *, only_unanalysed: bool = False
) -> dict:
    """Run every stage, in order, on these items (one read of the items for the whole batch).
    Safe to run twice. `only_unanalysed`: leave out those analysed meanwhile (the sweep of what a
    worker that died left). Returns what was done, and what was skipped and why."""
    wanted = list(dict.fromkeys(item_ids))
    rows = _read_batch(wanted)
    skipped = {pk: "gone" for pk in wanted if pk not in rows}
    items = [rows[pk] for pk in wanted if pk in rows]
    if only_unanalysed:
        skipped.update({item.pk: "analysed" for item in items if item.analysed_at is not None})
        items = [item for item in items if item.analysed_at is None]
    created = frozenset(created_ids) & {item.pk for item in items}
    done = []
    if items:
        for stage in stages():
            stage.run(items, created)
            done.append(stage.name)
        mark_batch_analysed(items)
    return {
        "items": [item.pk for item in items],
        "languages": {item.pk: item.language for item in items},
        "stages": done,
        "skipped": skipped,
    }


_items_by_id = bulk.Prepared(lambda pks: Item.objects.filter(pk__any=pks).order_by())
_handles_by_id = bulk.Prepared(lambda pks: ContactHandle.objects.filter(pk__any=pks).order_by())
_channels_by_id = bulk.Prepared(
    lambda pks: Channel.objects.select_related("organisation").filter(pk__any=pks).order_by()
)


def _read_batch(pks: list[int]) -> dict[int, Item]:
    """The items, with their author, and their channel and organisation read once for
    the batch and shared (a batch comes from one channel: joining them to every row cost more CPU
    than any other read of the analysis). The authors are read by their ids, not joined: for 200
    items PostgreSQL's planner hashed the whole handles table (15,000 handles: 4.9 ms of the
    server's time a batch, 1.4 ms for the two reads by id). Both reads are compiled once
    (palabre.bulk.Prepared), in no order (a dict by id)."""
    rows = {item.pk: item for item in _items_by_id(pks)} if pks else {}
    author_ids = list({item.author_id for item in rows.values() if item.author_id is not None})
    authors = {handle.pk: handle for handle in _handles_by_id(author_ids)} if author_ids else {}
    channel_ids = list({item.channel_id for item in rows.values()})
    channels = {channel.pk: channel for channel in _channels_by_id(channel_ids)} if channel_ids else {}
    for item in rows.values():
        Item.author.field.set_cached_value(item, authors.get(item.author_id))
        channel = channels[item.channel_id]
        Item.channel.field.set_cached_value(item, channel)
        if item.organisation_id == channel.organisation_id:
            Item.organisation.field.set_cached_value(item, channel.organisation)
    return rows


def mark_batch_analysed(items: list[Item]) -> None:
    """The analysis time, and the languages detected, in one query per language (a HOT update on
    PostgreSQL: neither is in an index), and the items no longer listed as waiting for it."""
    now = timezone.now()
    by_language: dict[str, list[int]] = {}
    for item in items:
        if getattr(item, "_detected_language", False):
            by_language.setdefault(item.language, []).append(item.pk)
        item.analysed_at = now
    rest = [item.pk for item in items if not getattr(item, "_detected_language", False)]
    connection = connections[router.db_for_write(Item)]
    if connection.vendor != "postgresql":
        for language, pks in by_language.items():
            Item.objects.filter(pk__any=pks).update(language=language, analysed_at=now)
        if rest:
            Item.objects.filter(pk__any=rest).update(analysed_at=now)
        PendingAnalysis.objects.filter(item_id__any=[item.pk for item in items]).delete()
        return
    # The same statements written once: Django's update() and delete() built and compiled them
    # for each batch (0.6 and 0.2 ms of CPU each).
    quote = connection.ops.quote_name
    items_table, pending = quote(Item._meta.db_table), quote(PendingAnalysis._meta.db_table)
    with connection.cursor() as cursor:
        for language, pks in by_language.items():
            cursor.execute(
                f"UPDATE {items_table} SET {quote('language')} = %s, {quote('analysed_at')} = %s "
                f"WHERE {quote('id')} = ANY(%s)",
                [language, now, bulk.array_text(pks)],
            )
        if rest:
            cursor.execute(
                f"UPDATE {items_table} SET {quote('analysed_at')} = %s WHERE {quote('id')} = ANY(%s)",
                [now, bulk.array_text(rest)],
            )
        cursor.execute(
            f"DELETE FROM {pending} WHERE {quote('item_id')} = ANY(%s)",
            [bulk.array_text([item.pk for item in items])],
        )


def analyse_items_or_each(item_ids: list[int], created_ids: Iterable[int] = (), **options) -> dict:
    """`analyse_items` on the batch; if it fails, each item alone, so that one item that breaks a
    stage does not hold the others back (it stays unanalysed; the workers' sweep tries it again)."""
    created = frozenset(created_ids)
    try:
        with transaction.atomic():
            return analyse_items(item_ids, created, **options)
    except Exception:
        logger.exception("Analysis of a batch of %s item(s) failed; analysing them one by one", len(item_ids))
    result: dict = {"items": [], "languages": {}, "stages": [], "skipped": {}, "failed": []}
    for pk in item_ids:
        try:
            with transaction.atomic():
                one = analyse_items([pk], created & {pk}, **options)
        except Exception:
            logger.exception("Analysis of item %s failed", pk)
            result["failed"].append(pk)
            continue
        result["items"] += one["items"]
        result["languages"].update(one["languages"])
        result["stages"] = one["stages"] or result["stages"]
        result["skipped"].update(one["skipped"])
    return result


__all__ = [
    "ORDER",
    "Refused",
    "Stage",
    "Stored",
    "analyse_items",
    "analyse_items_or_each",
    "ingest_items",
    "per_item",
    "register_stage",
    "stages",
    "unregister_stage",
]
