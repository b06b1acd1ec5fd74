"""API for conversation items and contacts: list with filters and cursor pagination, get, ingest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from ninja import Field, Query, Router, Schema

from palabre.conversations import services
from palabre.conversations.models import Contact, ItemKind
from palabre.orgs.permissions import Perm
from palabre.pagination import keyset_page
from palabre.storable import Moment, RowId, StoredInt

router = Router(tags=["conversations"])
MAX_BATCH = 500


class AuthorOut(Schema):
    handle: str
    display_name: str
    profile_url: str
    followers: int | None


class ItemOut(Schema):
    id: int
    channel_id: int
    external_id: str
    kind: str
    text: str
    language: str
    url: str
    author: AuthorOut | None
    contact_id: int | None
    parent_id: int | None
    thread_root_id: int | None
    created_at: datetime
    received_at: datetime
    metrics: dict[str, Any]


class ItemDetail(ItemOut):
    raw: dict[str, Any]
    analysed_at: datetime | None


class ItemPage(Schema):
    items: list[ItemOut]
    next_cursor: str | None


class ItemFilters(Schema):
    channel: RowId | None = None
    kind: ItemKind | None = None
    language: str | None = Field(None, max_length=8)
    contact: RowId | None = None
    thread: RowId | None = Field(None, description="Items of the thread started by this item")
    q: str | None = Field(None, max_length=200, description="Text contains (case-insensitive)")
    since: Moment | None = None
    until: Moment | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class AuthorIn(Schema):
    handle: str = Field(..., min_length=1, max_length=300)
    display_name: str = Field("", max_length=200)
    profile_url: str = Field("", max_length=500)
    followers: StoredInt | None = None


class ItemIn(Schema):
    external_id: str = Field(..., min_length=1, max_length=300)
    kind: ItemKind
    text: str = Field("", max_length=services.MAX_TEXT_CHARS)
    created_at: Moment
    author: AuthorIn | None = None
    url: str = Field("", max_length=1000)
    language: str = Field("", max_length=8)
    parent_external_id: str = Field("", max_length=300)
    metrics: dict[str, Any] = Field(default_factory=dict)
    raw: dict[str, Any] = Field(default_factory=dict)


class IngestIn(Schema):
    channel_id: RowId
    items: list[ItemIn] = Field(..., min_length=1, max_length=MAX_BATCH)


class IngestResult(Schema):
    external_id: str
    id: int
    created: bool


class ContactOut(Schema):
    id: int
    display_name: str
    tags: list[str]
    merged_into_id: int | None
    handles: list[AuthorOut]

    @staticmethod
    def resolve_handles(contact: Contact) -> list:
        return list(contact.handles.all())


class MergeIn(Schema):
    target: RowId
    sources: list[RowId] = Field(..., min_length=1)


@router.get("/items", response=ItemPage)
def list_items(request, filters: Query[ItemFilters]):
    items = services.items_for(request.auth)
    exact = {
        "channel_id": filters.channel,
        "kind": filters.kind,
        "language": filters.language,
        "contact_id": filters.contact,
    }
    items = items.filter(**{name: value for name, value in exact.items() if value is not None})
    if filters.thread is not None:
        items = items.filter(Q(pk=filters.thread) | Q(thread_root_id=filters.thread))
    if filters.q:
        items = items.filter(text__icontains=filters.q)
    if filters.since:
        items = items.filter(created_at__gte=filters.since)
    if filters.until:
        items = items.filter(created_at__lt=filters.until)
    page = keyset_page(items, cursor=filters.cursor, limit=filters.limit)
    return {"items": page.rows, "next_cursor": page.next_cursor}


@router.get("/items/{int:item_id}", response=ItemDetail)
def get_item(request, item_id: RowId):
    return services.get_item(actor=request.auth, item_id=item_id)


@router.post("/items/ingest", response=list[IngestResult])
def ingest(request, payload: IngestIn):
    """Store items (idempotent: the same external id on the same channel updates the item)."""
    channel = services.channel_for_ingest(actor=request.auth, channel_id=payload.channel_id)
    results = []
    # All or nothing: a batch with one bad item stores none, and the error names that item.
    with transaction.atomic():
        for index, incoming in enumerate(payload.items):
            data = incoming.dict()
            author = data.pop("author")
            try:
                item, created = services.ingest_item(
                    channel=channel,
                    incoming=services.IncomingItem(
                        **data, author=services.IncomingAuthor(**author) if author else None
                    ),
                )
            except ValidationError as error:
                raise ValidationError(
                    {f"items.{index}.{field}": messages for field, messages in error.message_dict.items()}
                ) from error
            results.append({"external_id": item.external_id, "id": item.pk, "created": created})
    return results


@router.get("/contacts", response=list[ContactOut])
def list_contacts(request, q: str | None = None, limit: int = Query(100, ge=1, le=500)):
    actor = request.auth
    actor.require(Perm.ITEMS_VIEW)
    contacts = Contact.objects.visible_to(actor).filter(merged_into__isnull=True)
    if q:
        contacts = contacts.filter(Q(display_name__icontains=q) | Q(handles__handle__icontains=q)).distinct()
    return contacts.prefetch_related("handles")[:limit]


@router.post("/contacts/merge", response=ContactOut)
def merge_contacts(request, payload: MergeIn):
    actor = request.auth
    found = {
        c.pk: c for c in Contact.objects.visible_to(actor).filter(pk__in=[payload.target, *payload.sources])
    }
    missing = [pk for pk in [payload.target, *payload.sources] if pk not in found]
    if missing:
        raise Contact.DoesNotExist
    return services.merge_contacts(
        actor=actor, target=found[payload.target], sources=[found[pk] for pk in payload.sources]
    )
