"""Ingestion and contacts: the one way items enter Palabre, keyed by (channel, external id)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.bidi import strip_controls
from palabre.conversations.models import Contact, ContactHandle, Item, ItemKind, PendingAnalysis
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 100_000
ATTEMPTS = 5
# The kinds an item may have: `ItemKind.values` builds its list anew on each read, and storing
# reads it for every item of a batch.
_KINDS = frozenset(ItemKind.values)


@dataclass
class IncomingAuthor:
    handle: str
    display_name: str = ""
    profile_url: str = ""
    followers: int | None = None

    def __post_init__(self) -> None:
        # A name, not content: no bidirectional control may turn it (or what follows) around.
        self.display_name = strip_controls(self.display_name or "")


@dataclass
class IncomingItem:
    """An item as a connector or the API hands it over, before it is stored."""

    external_id: str
    kind: str
    text: str
    created_at: datetime
    author: IncomingAuthor | None = None
    url: str = ""
    language: str = ""
    parent_external_id: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def _validate(channel: Channel, incoming: IncomingItem) -> None:
    errors = {}
    if not incoming.external_id or len(incoming.external_id) > 300:
        errors["external_id"] = _("An item needs an external id of at most 300 characters.")
    if incoming.parent_external_id and incoming.parent_external_id == incoming.external_id:
        errors["parent_external_id"] = _("An item cannot reply to itself.")
    if incoming.kind not in _KINDS:
        errors["kind"] = _("Unknown kind: %(kind)s") % {"kind": incoming.kind}
    if len(incoming.text) > MAX_TEXT_CHARS:
        errors["text"] = _("The text is longer than %(n)s characters.") % {"n": MAX_TEXT_CHARS}
    if "\x00" in incoming.text:
        errors["text"] = _("The text contains a NUL character.")
    if not isinstance(incoming.created_at, datetime):
        errors["created_at"] = _("The creation time must be a date and time.")
    elif timezone.is_naive(incoming.created_at):
        errors["created_at"] = _("The creation time needs a time zone.")
    if incoming.author is not None and not incoming.author.handle.strip():
        errors["author.handle"] = _("An author needs a handle.")
    if errors:
        raise ValidationError(errors)


def _author_handle(channel: Channel, author: IncomingAuthor | None) -> ContactHandle | None:
    if author is None:
        return None
    handle = author.handle.strip()
    found = (
        ContactHandle.objects.select_related("contact")
        .for_org(channel.organisation_id)
        .filter(platform=channel.platform, handle=handle)
        .first()
    )
    if found is None:
        try:
            with transaction.atomic():
                contact = Contact.objects.create(
                    organisation_id=channel.organisation_id, display_name=author.display_name or handle
                )
                found = ContactHandle.objects.create(
                    organisation_id=channel.organisation_id,
                    contact=contact,
                    platform=channel.platform,
                    handle=handle,
                )
        except IntegrityError:  # created meanwhile by a concurrent ingestion
            found = (
                ContactHandle.objects.select_related("contact")
                .for_org(channel.organisation_id)
                .get(platform=channel.platform, handle=handle)
            )
    changed = []
    for name in ("display_name", "profile_url", "followers"):
        value = getattr(author, name)
        if value not in ("", None) and getattr(found, name) != value:
            setattr(found, name, value)
            changed.append(name)
    if changed:
        found.save(update_fields=changed)
    return found


def surviving_contact(contact: Contact) -> Contact:
    """The contact a merged one now lives in (merges can chain)."""
    seen = {contact.pk}
    while contact.merged_into_id is not None and contact.merged_into_id not in seen:
        contact = contact.merged_into
        seen.add(contact.pk)
    return contact


def _current_contact(handle: ContactHandle | None) -> Contact | None:
    return surviving_contact(handle.contact) if handle is not None else None


def ingest_item(*, channel: Channel, incoming: IncomingItem, analyse: bool = True) -> tuple[Item, bool]:
    """Store an item, or update it when (channel, external id) is known. Returns (item, created).

    A batch of one (`pipeline.ingest_items`). Idempotent: a connector may deliver the same item any
    number of times, concurrently too. Analysis (the pipeline's stages) is enqueued once the
    transaction commits, unless `analyse` is False: the caller then runs it itself (a batch, after
    its commit).
    """
    from palabre.conversations.pipeline import ingest_items

    [(item, created)] = ingest_items(channel=channel, incoming=[incoming], analyse=False).items
    if analyse:
        from palabre.conversations.tasks import analyse_item

        transaction.on_commit(lambda: analyse_item.enqueue(item.pk, created))
    return item, created


def _is_lock_conflict(error: OperationalError) -> bool:
    # deadlock_detected, serialization_failure (PostgreSQL); "database is locked" (SQLite)
    return getattr(error.__cause__, "sqlstate", None) in {"40P01", "40001"} or "locked" in str(error)


def _write(channel: Channel, incoming: IncomingItem) -> tuple[Item, bool]:
    author = _author_handle(channel, incoming.author)
    values = {
        "organisation_id": channel.organisation_id,
        "kind": incoming.kind,
        "author": author,
        "contact": _current_contact(author),
        "text": incoming.text,
        "url": incoming.url,
        "created_at": incoming.created_at,
        "metrics": incoming.metrics,
        "raw": incoming.raw,
        "parent_external_id": incoming.parent_external_id,
        "updated_at": timezone.now(),
    }
    if incoming.language:
        values["language"] = incoming.language
    item = Item.objects.select_for_update().filter(channel=channel, external_id=incoming.external_id).first()
    created = item is None
    if created:
        item = Item.objects.create(channel=channel, external_id=incoming.external_id, **values)
        PendingAnalysis.objects.create(item=item, received_at=item.received_at)
    else:
        for name, value in values.items():
            setattr(item, name, value)
        item.save()
    _link_thread(channel, item)
    return item, created


def _link_thread(channel: Channel, item: Item) -> None:
    if item.parent_external_id and item.parent_id is None:
        # Locked, so a thread being re-rooted concurrently is seen whole (PostgreSQL).
        parent = (
            Item.objects.select_for_update()
            .filter(channel=channel, external_id=item.parent_external_id)
            .first()
        )
        if parent is not None and not _is_below(parent, item):
            item.parent = parent
            item.thread_root_id = parent.thread_root_id or parent.pk
            item.save(update_fields=["parent", "thread_root"])
    # Replies that came first now find their parent (and the thread root, down the tree).
    orphans = Item.objects.select_for_update().filter(
        channel=channel, parent_external_id=item.external_id, parent__isnull=True
    )
    root_id = item.thread_root_id or item.pk
    for orphan in orphans:
        if orphan.pk == item.pk or _is_below(item, orphan):
            continue  # two items naming each other as parent: leave the loop unlinked
        orphan.parent = item
        orphan.save(update_fields=["parent"])
        _set_thread_root(orphan, root_id)


def _is_below(candidate: Item, ancestor: Item) -> bool:
    """Whether `candidate` sits in the reply tree under `ancestor` (or is it)."""
    seen: set[int] = set()
    current: Item | None = candidate
    while current is not None and current.pk not in seen:
        if current.pk == ancestor.pk:
            return True
        seen.add(current.pk)
        current = current.parent
    return False


def _set_thread_root(item: Item, root_id: int) -> None:
    pending, seen = [item.pk], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        Item.objects.filter(pk=current).update(thread_root_id=root_id)
        pending.extend(Item.objects.filter(parent_id=current).values_list("pk", flat=True))


def mark_analysed(item: Item, *, language: str = "") -> None:
    fields = {"analysed_at": timezone.now()}
    if language:
        fields["language"] = language
    Item.objects.filter(pk=item.pk).update(**fields)
    PendingAnalysis.objects.filter(item_id=item.pk).delete()


def unanalysed_item_ids(*, older_than: timedelta, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Items stored more than `older_than` ago and never analysed: a worker died between storing
    them and analysing them (or their analysis failed). Oldest first. Read from `PendingAnalysis`
    (a row an item stored, deleted when it is marked analysed), not from the items themselves."""
    before = (now or timezone.now()) - older_than
    return list(
        PendingAnalysis.objects.filter(received_at__lte=before)
        .order_by("received_at", "item_id")
        .values_list("item_id", flat=True)[:limit]
    )


def analyse_unanalysed(*, older_than: timedelta, now: datetime | None = None, limit: int = 500) -> dict:
    """Analyse what `unanalysed_item_ids` finds, as one batch, each item once (analysis is
    idempotent: an item analysed meanwhile by its own task is left as it is). Returns the counts,
    and logs them."""
    from palabre.conversations.pipeline import analyse_items_or_each

    found = unanalysed_item_ids(older_than=older_than, now=now, limit=limit)
    result = (
        analyse_items_or_each(found, found, only_unanalysed=True) if found else {"items": [], "failed": []}
    )
    analysed, failed = len(result["items"]), len(result.get("failed", []))
    if found:
        logger.warning("Analysed %s item(s) stored without analysis (%s failed)", analysed, failed)
    return {"found": len(found), "analysed": analysed, "failed": failed}


# --- reading ---------------------------------------------------------------------------------


def items_for(actor: Actor) -> models.QuerySet[Item]:
    actor.require(Perm.ITEMS_VIEW)
    return Item.objects.visible_to(actor).select_related("channel", "author", "contact")


def get_item(*, actor: Actor, item_id: int) -> Item:
    item = items_for(actor).filter(pk=item_id).first()
    if item is None:
        raise NotInOrganisation
    return item


def channel_for_ingest(*, actor: Actor, channel_id: int) -> Channel:
    actor.require(Perm.ITEMS_INGEST)
    channel = Channel.objects.visible_to(actor).filter(pk=channel_id).first()
    if channel is None:
        raise NotInOrganisation
    return channel


# --- contacts --------------------------------------------------------------------------------


@transaction.atomic
def merge_contacts(*, actor: Actor, target: Contact, sources: list[Contact]) -> Contact:
    """Make several contacts one person: handles and items move to the target."""
    actor.require(Perm.CONTACTS_MANAGE)
    every = [target, *sources]
    if any(c.organisation_id != actor.organisation.pk for c in every):
        raise NotInOrganisation
    # Merging into a contact that was itself merged means merging into where it now lives.
    target = surviving_contact(target)
    sources = [surviving_contact(c) for c in sources]
    sources = list({c.pk: c for c in sources if c.pk != target.pk}.values())
    if not sources:
        raise ValidationError({"sources": _("Choose at least one other contact to merge.")})
    source_ids = [c.pk for c in sources]
    before = {
        "handles": list(
            ContactHandle.objects.filter(contact_id__in=source_ids).values_list("handle", flat=True)
        )
    }
    ContactHandle.objects.filter(contact_id__in=source_ids).update(contact=target)
    Item.objects.filter(contact_id__in=source_ids).update(contact=target)
    Contact.objects.filter(merged_into_id__in=source_ids).exclude(pk=target.pk).update(merged_into=target)
    Contact.objects.filter(pk__in=source_ids).update(merged_into=target)
    if not target.notes:
        target.notes = "\n".join(c.notes for c in sources if c.notes)
    target.tags = sorted({*target.tags, *(t for c in sources for t in c.tags)})
    target.save(update_fields=["notes", "tags"])
    record(
        actor,
        "contact.merged",
        target,
        before=before,
        after={"merged": [str(c) for c in sources], "into": str(target)},
    )
    return target
