"""Inbox API: threads (list with filters and cursor, one thread), assignment, status, notes, replies
(once per idempotency key, with the personalisation check), saved replies and the knowledge base."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from palabre.conversations.schemas import CorrectionIn, TriageOut, triage_out
from palabre.inbox import bulk, queries, services
from palabre.inbox import corrections as item_corrections
from palabre.inbox.models import Conversation
from palabre.inbox.queries import InboxFilter
from palabre.storable import RowId

router = Router(tags=["inbox"])


class ThreadOut(Schema):
    id: int
    root_id: int
    channel_id: int
    contact_id: int | None
    status: str
    assignee: str | None
    priority: int
    tags: list[str]
    sentiment: str
    intent: str
    language: str
    author: str = Field(..., alias="author_label")
    followers: int | None
    preview: str
    item_count: int
    awaiting_reply: bool
    last_activity_at: datetime
    last_customer_message_at: datetime | None
    first_response_due_at: datetime | None
    first_responded_at: datetime | None
    waiting_since: datetime | None = Field(
        None, description="The first customer message since the brand's last answer; null when nothing waits"
    )
    sla_breached: bool

    @staticmethod
    def resolve_assignee(c: Conversation) -> str | None:
        return c.assignee.get_username() if c.assignee_id else None

    @staticmethod
    def resolve_sla_breached(c: Conversation) -> bool:
        return c.sla_breached()


class ThreadPage(Schema):
    items: list[ThreadOut]
    next_cursor: str | None


class ThreadFilters(Schema):
    status: Literal["open", "pending", "closed", "all"] = "open"
    channel: RowId | None = None
    assignee: str | None = Field(None, max_length=20, description="me, none or a user id")
    language: str | None = Field(None, max_length=8)
    sentiment: Literal["positive", "neutral", "negative"] | None = None
    intent: Literal["question", "complaint", "praise", "lead", "crisis", "other"] | None = None
    priority: Literal["urgent", "high", "normal"] | None = None
    sla: Literal["breached"] | None = None
    q: str | None = Field(None, max_length=200)
    sort: Literal["recent", "priority", "oldest"] | None = Field(
        None,
        description="recent (newest activity), priority (highest first) or oldest (waiting longest "
        "for an answer first); without it, a priority filter sorts by priority, else by recent",
    )
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(30, ge=1, le=100)


class ThreadItemOut(Schema):
    id: int
    kind: str
    text: str
    author: str | None
    brand: bool
    created_at: datetime
    url: str
    sentiment: str | None = Field(
        None, description="A customer message's sentiment, as corrected by a person if one did"
    )
    intent: str | None = Field(
        None, description="A customer message's intent, as corrected by a person if one did"
    )
    corrected: bool = Field(
        False, description="Whether a person corrected this message's sentiment or intent"
    )


class NoteOut(Schema):
    id: int
    text: str
    author: str | None
    mentions: list[str]
    created_at: datetime

    @staticmethod
    def resolve_author(n) -> str | None:
        return n.author.get_username() if n.author_id else None


class ReplyOut(Schema):
    id: int
    text: str
    author: str | None
    idempotency_key: str
    warnings: list[dict[str, Any]]
    delivery_status: str | None
    delivery_error: str
    created_at: datetime


class ArticleOut(Schema):
    id: int
    title: str
    category: str
    language: str
    body: str
    updated_at: datetime


class SuggestionOut(Schema):
    article: ArticleOut
    score: float


class ReplyLimitOut(Schema):
    max_chars: int
    counting: str = Field(..., description="mastodon (links 23, mentions by name), graphemes or x (weighted)")
    prefix: str = Field(..., description="What the connector adds before the text (the mention)")
    suffix: str = Field(..., description="What is added after it (the signature)")


class AnsweredPostOut(Schema):
    stored: bool
    item_id: int | None
    external_id: str
    text: str
    url: str
    created_at: datetime | None


class ThreadDetail(ThreadOut):
    priority_reasons: list[dict[str, Any]]

    @staticmethod
    def resolve_priority_reasons(c: Conversation) -> list[dict[str, Any]]:
        return c.reasons_now()  # the wait counted until now

    items: list[ThreadItemOut]
    notes: list[NoteOut]
    replies: list[ReplyOut]
    suggestions: list[SuggestionOut]
    can_reply: bool = Field(
        description="Whether Palabre can deliver a reply on this thread's channel (its connector "
        "declares `reply`); when false, answer on the platform itself"
    )
    reply_limit: ReplyLimitOut | None = Field(
        None, description="The platform's length limit for a reply; null where there is none"
    )
    answers_post: AnsweredPostOut | None = Field(
        None,
        description="The brand's post this thread answers (stored=false: only its platform id is "
        "known, Palabre never collected the post)",
    )


class AssignIn(Schema):
    assignee: RowId | Literal["me", "auto"] | None = Field(
        ...,
        description="A user id, `me`, `auto` or null; handing the thread to someone else (`auto` "
        "included) or taking it from them needs `inbox.manage`",
    )


class StatusIn(Schema):
    status: Literal["open", "pending", "closed"]


class NoteIn(Schema):
    text: str = Field(..., max_length=5000)


class ThreadReplyIn(Schema):
    text: str = Field(..., max_length=10_000)
    idempotency_key: str | None = Field(None, max_length=80, description="Or the Idempotency-Key header")
    saved_reply_id: RowId | None = None
    confirmed: bool = Field(False, description="Send even when the personalisation check warns")


class ReplyCheckIn(Schema):
    text: str = Field(..., max_length=10_000)


class WarningOut(Schema):
    code: str
    params: dict[str, Any]


class NeedsConfirmation(Schema):
    error: str
    message: str
    warnings: list[WarningOut]


class SavedReplyIn(Schema):
    title: str = Field(..., max_length=120)
    text: str = Field(..., max_length=10_000)
    language: Literal["", "fr", "en"] = ""


class SavedReplyOut(Schema):
    id: int
    title: str
    text: str
    language: str
    updated_at: datetime


class ArticleIn(Schema):
    title: str = Field(..., max_length=200)
    body: str = Field(..., max_length=50_000)
    category: Literal["product", "history", "policy", "faq"] = "faq"
    language: Literal["", "fr", "en"] = ""


class _Detail:
    """A thread with its items, notes, replies and suggestions, for ThreadDetail."""

    def __init__(self, conversation: Conversation, **parts: Any):
        self._conversation = conversation
        self.__dict__.update(parts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conversation, name)


def _reply_out(reply, action) -> dict[str, Any]:
    return {
        "id": reply.pk,
        "text": reply.text,
        "author": reply.author.get_username() if reply.author_id else None,
        "idempotency_key": reply.idempotency_key,
        "warnings": reply.warnings,
        "delivery_status": action.status if action else None,
        "delivery_error": action.last_error if action else "",
        "created_at": reply.created_at,
    }


@router.get(
    "/inbox/threads",
    response=ThreadPage,
    summary="Threads, newest activity, priority or longest waiting first",
)
def list_threads(request: HttpRequest, filters: Query[ThreadFilters]):
    data = filters.dict(exclude={"cursor", "limit"}, exclude_none=True)
    page = queries.conversation_page(
        request.auth, InboxFilter.from_mapping(data), cursor=filters.cursor, limit=filters.limit
    )
    return {"items": page.rows, "next_cursor": page.next_cursor}


@router.get("/inbox/threads/{int:thread_id}", response=ThreadDetail)
def get_thread(request: HttpRequest, thread_id: RowId):
    actor = request.auth
    c = services.conversation_for(actor=actor, conversation_id=thread_id)
    items = queries.thread_items(actor, c)
    replies = queries.replies(actor, c)
    deliveries = services.delivery_of(replies)
    text = " ".join(i.text for i in items if not services.is_brand_item(i))[-4000:]
    shown = {
        t.item.pk: t for t in item_corrections.triage_of([i for i in items if not services.is_brand_item(i)])
    }
    listed = [
        {
            "id": i.pk,
            "kind": i.kind,
            "text": i.text,
            "author": i.author.handle if i.author else None,
            "brand": services.is_brand_item(i),
            "created_at": i.created_at,
            "url": i.url,
            **(
                {
                    "sentiment": shown[i.pk].sentiment.value,
                    "intent": shown[i.pk].intent.value,
                    "corrected": shown[i.pk].sentiment.corrected or shown[i.pk].intent.corrected,
                }
                if i.pk in shown
                else {}
            ),
        }
        for i in items
    ]
    return _Detail(
        c,
        items=listed,
        notes=queries.notes(actor, c),
        replies=[_reply_out(r, deliveries.get(r.pk)) for r in replies],
        suggestions=[{"article": a, "score": s} for a, s in queries.suggested_articles(actor, text)],
        can_reply=queries.can_reply_on(c.channel),
        reply_limit=_reply_limit(services.reply_length(actor=actor, conversation=c, text="")),
        answers_post=services.answered_post(items),
    )


def _reply_limit(found: services.ReplyLength | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "max_chars": found.limit.max_chars,
        "counting": found.limit.counting,
        "prefix": found.prefix,
        "suffix": found.suffix,
    }


@router.post("/inbox/threads/{int:thread_id}/assign", response=ThreadOut)
def assign_thread(request: HttpRequest, thread_id: RowId, payload: AssignIn):
    actor = request.auth
    c = services.conversation_for(actor=actor, conversation_id=thread_id)
    if payload.assignee == "auto":
        done = services.auto_assign(actor=actor, conversation=c)
        if done is None:
            raise ValidationError({"assignee": "Nobody handles this thread's language and intent."})
        return done
    assignee = actor.user_id if payload.assignee == "me" else payload.assignee
    if payload.assignee == "me" and assignee is None:
        raise ValidationError({"assignee": "An API token is nobody: give a user id."})
    return services.assign(actor=actor, conversation=c, assignee_id=assignee)


@router.post("/inbox/threads/{int:thread_id}/status", response=ThreadOut)
def set_status(request: HttpRequest, thread_id: RowId, payload: StatusIn):
    c = services.conversation_for(actor=request.auth, conversation_id=thread_id)
    return services.set_status(actor=request.auth, conversation=c, status=payload.status)


class BulkIn(Schema):
    action: Literal["assign", "close", "reopen", "tag", "untag", "priority", "spam"]
    ids: list[RowId] = Field(..., min_length=1, max_length=bulk.MAX_THREADS, description="Thread ids")
    value: str | RowId | None = Field(
        None,
        description="assign: a user id, `me` or `none`; tag/untag: the tag; "
        "priority: `urgent`, `high`, `normal` or `auto` (back to the computed priority)",
    )


class RestoreOut(Schema):
    field: str
    values: dict[str, Any]


class BulkOut(Schema):
    action: str
    count: int
    message: str
    restore: RestoreOut | None = Field(None, description="POST it to /inbox/threads/bulk/restore to undo")


class RestoreIn(Schema):
    field: Literal["status", "assignee", "tags", "priority"]
    values: dict[str, Any] = Field(..., description="Thread id -> the value to put back")


class RestoredOut(Schema):
    count: int


@router.post(
    "/inbox/threads/bulk",
    response=BulkOut,
    summary="One action on several threads, all or none (a thread of another organisation: 404)",
)
def bulk_action(request: HttpRequest, payload: BulkIn):
    result = bulk.apply(actor=request.auth, action=payload.action, ids=payload.ids, value=payload.value)
    restore = (
        {"field": result.restore_field, "values": {str(k): v for k, v in result.before.items()}}
        if result.restore_field
        else None
    )
    return {"action": result.action, "count": result.count, "message": result.message, "restore": restore}


@router.post("/inbox/threads/bulk/restore", response=RestoredOut, summary="Undo a bulk action")
def bulk_restore(request: HttpRequest, payload: RestoreIn):
    return {"count": bulk.restore(actor=request.auth, restore_field=payload.field, values=payload.values)}


@router.post("/inbox/threads/{int:thread_id}/notes", response={201: NoteOut})
def add_note(request: HttpRequest, thread_id: RowId, payload: NoteIn):
    c = services.conversation_for(actor=request.auth, conversation_id=thread_id)
    return Status(201, services.add_note(actor=request.auth, conversation=c, text=payload.text))


@router.post(
    "/inbox/threads/{int:thread_id}/check", response=list[WarningOut], summary="Personalisation check"
)
def check_reply(request: HttpRequest, thread_id: RowId, payload: ReplyCheckIn):
    c = services.conversation_for(actor=request.auth, conversation_id=thread_id)
    return [
        w.as_dict()
        for w in services.personalisation_warnings(actor=request.auth, conversation=c, text=payload.text)
    ]


@router.post(
    "/inbox/threads/{int:thread_id}/replies",
    response={201: ReplyOut, 409: NeedsConfirmation},
    summary="Reply (once per idempotency key); 409 lists the personalisation warnings to confirm",
)
def send_reply(request: HttpRequest, thread_id: RowId, payload: ThreadReplyIn):
    actor = request.auth
    c = services.conversation_for(actor=actor, conversation_id=thread_id)
    key = payload.idempotency_key or request.headers.get("Idempotency-Key", "")
    saved = queries.saved_reply(actor, payload.saved_reply_id) if payload.saved_reply_id else None
    try:
        reply = services.send_reply(
            actor=actor,
            conversation=c,
            text=payload.text,
            idempotency_key=key,
            saved_reply=saved,
            confirmed=payload.confirmed,
        )
    except services.ReplyNeedsConfirmation as pending:
        return Status(
            409,
            {
                "error": "needs_confirmation",
                "message": "The personalisation check warns; edit the reply or send again with confirmed=true.",
                "warnings": [w.as_dict() for w in pending.warnings],
            },
        )
    return Status(201, _reply_out(reply, services.delivery_of([reply]).get(reply.pk)))


@router.get("/inbox/saved-replies", response=list[SavedReplyOut])
def list_saved_replies(request: HttpRequest, language: str = Query("", max_length=8)):
    return list(queries.saved_replies(request.auth, language=language))


@router.post("/inbox/saved-replies", response={201: SavedReplyOut})
def create_saved_reply(request: HttpRequest, payload: SavedReplyIn):
    return Status(201, services.save_saved_reply(actor=request.auth, **payload.dict()))


@router.put("/inbox/saved-replies/{int:saved_id}", response=SavedReplyOut)
def update_saved_reply(request: HttpRequest, saved_id: RowId, payload: SavedReplyIn):
    saved = queries.saved_reply(request.auth, saved_id)
    return services.save_saved_reply(actor=request.auth, saved=saved, **payload.dict())


@router.delete("/inbox/saved-replies/{int:saved_id}", response={204: None})
def delete_saved_reply(request: HttpRequest, saved_id: RowId):
    services.delete_saved_reply(actor=request.auth, saved=queries.saved_reply(request.auth, saved_id))
    return Status(204, None)


@router.get("/inbox/knowledge", response=list[ArticleOut])
def list_articles(request: HttpRequest):
    return list(queries.articles(request.auth))


@router.get("/inbox/knowledge/suggest", response=list[SuggestionOut], summary="Articles closest to a text")
def suggest_articles(request: HttpRequest, text: str = Query(..., max_length=10_000)):
    return [{"article": a, "score": s} for a, s in queries.suggested_articles(request.auth, text)]


@router.post("/inbox/knowledge", response={201: ArticleOut})
def create_article(request: HttpRequest, payload: ArticleIn):
    return Status(201, services.save_article(actor=request.auth, **payload.dict()))


@router.put("/inbox/knowledge/{int:article_id}", response=ArticleOut)
def update_article(request: HttpRequest, article_id: RowId, payload: ArticleIn):
    article = queries.article(request.auth, article_id)
    return services.save_article(actor=request.auth, article=article, **payload.dict())


@router.delete("/inbox/knowledge/{int:article_id}", response={204: None})
def delete_article(request: HttpRequest, article_id: RowId):
    services.delete_article(actor=request.auth, article=queries.article(request.auth, article_id))
    return Status(204, None)


def _item_triage(item) -> dict[str, Any]:
    [shown] = item_corrections.triage_of([item])
    return triage_out(item, shown.sentiment, shown.intent)


@router.get(
    "/inbox/items/{int:item_id}/triage",
    response=TriageOut,
    summary="A message's sentiment and intent, as detected and as people corrected them",
)
def get_item_triage(request: HttpRequest, item_id: RowId):
    return _item_triage(item_corrections.item_of(actor=request.auth, item_id=item_id))


@router.post(
    "/inbox/items/{int:item_id}/corrections",
    response={201: TriageOut},
    summary="Correct a message's sentiment or intent (recomputes its thread; learnt by the next training)",
)
def correct_item(request: HttpRequest, item_id: RowId, payload: CorrectionIn):
    item = item_corrections.item_of(actor=request.auth, item_id=item_id)
    item_corrections.correct_item(actor=request.auth, item=item, field=payload.field, value=payload.value)
    return Status(201, _item_triage(item))
