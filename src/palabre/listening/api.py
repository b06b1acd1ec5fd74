"""Listening API: queries, sources, mentions (filters, cursor pagination), dashboard, alerts, crisis mode."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Query, Router, Schema, Status

from palabre.conversations.schemas import CorrectionIn, TriageOut, triage_out
from palabre.listening import backfill, queries, services
from palabre.listening import corrections as mention_corrections
from palabre.listening.models import CrisisAlert, QueryKind, Sentiment, SourceKind
from palabre.orgs.permissions import Perm
from palabre.pagination import keyset_page
from palabre.storable import RowId

router = Router(tags=["listening"])


class QueryIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    query: str = Field(..., min_length=1, max_length=4000)
    kind: QueryKind = QueryKind.BRAND
    active: bool = True


class QueryPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    query: str | None = Field(None, min_length=1, max_length=4000)
    kind: QueryKind | None = None
    active: bool | None = None


class QueryOut(Schema):
    id: int
    name: str
    query: str
    kind: str
    active: bool
    created_at: datetime
    updated_at: datetime


class SourceIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    kind: SourceKind
    config: dict[str, Any] = Field(default_factory=dict)
    interval_minutes: int = Field(15, ge=1, le=1440)


class SourcePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    config: dict[str, Any] | None = None
    interval_minutes: int | None = Field(None, ge=1, le=1440)
    active: bool | None = None


class SourceOut(Schema):
    id: int
    name: str
    kind: str
    config: dict[str, Any]
    interval_minutes: int
    active: bool
    health: str
    last_success_at: datetime | None
    last_error: str
    last_error_code: str = Field(
        "",
        description="Why the last fetch failed: unreachable, http_error, rate_limited, malformed or refused",
    )
    consecutive_failures: int
    next_poll_at: datetime
    mentions_ingested: int


class MatchOut(Schema):
    query_id: int
    spans: list[list[int]]


class MentionOut(Schema):
    id: int
    source_id: int
    external_id: str
    text: str
    url: str
    author: str
    author_name: str
    author_reach: int | None
    domain: str
    language: str
    sentiment: str
    negative_score: float
    published_at: datetime
    matches: list[MatchOut]

    @staticmethod
    def resolve_matches(mention) -> list[dict]:
        return [{"query_id": m.query_id, "spans": m.spans} for m in mention.matches.all()]


class MentionPage(Schema):
    items: list[MentionOut]
    next_cursor: str | None


class MentionFilters(Schema):
    query: RowId | None = None
    source: RowId | None = None
    language: str = Field("", max_length=8)
    sentiment: Sentiment | None = None
    since: date | None = None
    until: date | None = None
    q: str = Field("", max_length=200)
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)

    def where(self) -> queries.MentionFilter:
        return queries.MentionFilter(
            query_id=self.query,
            source_id=self.source,
            language=self.language,
            sentiment=self.sentiment or "",
            since=self.since,
            until=self.until,
            text=self.q,
        )


class AlertOut(Schema):
    id: int
    query_id: int
    metric: str
    bucket_minutes: int
    window_start: datetime
    window_end: datetime
    observed: float
    expected: float
    score: float
    status: str
    explanation: dict[str, Any]
    created_at: datetime


class AlertStatusIn(Schema):
    status: CrisisAlert.Status


class CrisisIn(Schema):
    on: bool
    reason: str = Field("", max_length=2000)
    alert_id: RowId | None = None


class CrisisOut(Schema):
    active: bool
    id: int | None = None
    reason: str = ""
    started_at: datetime | None = None
    started_by: str = ""
    alert_id: int | None = None
    checklist: list[dict[str, Any]] = Field(default_factory=list)


def _crisis_out(crisis) -> dict:
    if crisis is None or not crisis.active:
        return {"active": False}
    return {
        "active": True,
        "id": crisis.pk,
        "reason": crisis.reason,
        "started_at": crisis.started_at,
        "started_by": crisis.started_by,
        "alert_id": crisis.alert_id,
        "checklist": crisis.checklist,
    }


# --- queries ----------------------------------------------------------------------------------


@router.get("/listening/queries", response=list[QueryOut])
def list_queries(request):
    return list(queries.listening_queries(request.auth))


@router.post(
    "/listening/queries", response={201: QueryOut}, summary="Create a query (422 names the syntax error)"
)
def create_query(request, payload: QueryIn):
    return Status(201, services.create_query(actor=request.auth, **payload.dict()))


@router.patch("/listening/queries/{int:query_id}", response=QueryOut)
def update_query(request, query_id: RowId, payload: QueryPatch):
    actor = request.auth
    row = queries.listening_query(actor, query_id)
    return services.update_query(actor=actor, listening_query=row, **payload.dict(exclude_none=True))


@router.delete("/listening/queries/{int:query_id}", response={204: None})
def delete_query(request, query_id: RowId):
    actor = request.auth
    services.delete_query(actor=actor, listening_query=queries.listening_query(actor, query_id))
    return Status(204, None)


# --- sources ----------------------------------------------------------------------------------


class PreviewIn(Schema):
    query: str = Field(..., max_length=2000)
    days: int = Field(30, ge=1, le=90)


class PreviewSampleOut(Schema):
    text: str
    spans: list[list[int]]
    source: str
    published_at: datetime
    url: str


class PreviewOut(Schema):
    count: int
    scanned: int
    days: int
    complete: bool = Field(
        True,
        description="False when the preview stopped matching after its time budget: `scanned` says how far",
    )
    samples: list[PreviewSampleOut]


class BackfillIn(Schema):
    days: int = Field(30, ge=1, le=90)


class BackfillOut(Schema):
    id: int
    query_id: int
    status: str
    days: int
    total: int
    scanned: int
    matched: int
    percent: int
    error: str
    created_at: datetime
    finished_at: datetime | None


@router.post(
    "/listening/queries/preview",
    response=PreviewOut,
    summary="What a query would match in recent stored posts (a syntax error: 422 naming query)",
)
def preview_query(request, payload: PreviewIn):
    return backfill.preview(actor=request.auth, text=payload.query, days=payload.days)


@router.post(
    "/listening/queries/{int:query_id}/backfill",
    response={202: BackfillOut},
    summary="Run the query over what was already collected, in the background",
)
def start_backfill(request, query_id: RowId, payload: BackfillIn):
    row = queries.listening_query(request.auth, query_id)
    return Status(202, backfill.start(actor=request.auth, listening_query=row, days=payload.days))


@router.get(
    "/listening/queries/{int:query_id}/backfill",
    response={200: BackfillOut, 404: None},
    summary="The query's latest backfill and its progress",
)
def get_backfill(request, query_id: RowId):
    found = backfill.latest(queries.listening_query(request.auth, query_id))
    if found is None:
        return Status(404, None)
    return found


@router.get("/listening/sources", response=list[SourceOut])
def list_sources(request):
    return list(queries.sources(request.auth))


@router.post("/listening/sources", response={201: SourceOut})
def create_source(request, payload: SourceIn):
    return Status(201, services.create_source(actor=request.auth, **payload.dict()))


@router.patch("/listening/sources/{int:source_id}", response=SourceOut)
def update_source(request, source_id: RowId, payload: SourcePatch):
    actor = request.auth
    source = queries.source(actor, source_id)
    return services.update_source(actor=actor, source=source, **payload.dict(exclude_none=True))


@router.delete("/listening/sources/{int:source_id}", response={204: None})
def delete_source(request, source_id: RowId):
    actor = request.auth
    services.delete_source(actor=actor, source=queries.source(actor, source_id))
    return Status(204, None)


# --- mentions and dashboard -------------------------------------------------------------------


@router.get("/listening/mentions", response=MentionPage, summary="Mentions, newest first (cursor pagination)")
def list_mentions(request, filters: Query[MentionFilters]):
    rows = queries.mentions(request.auth, filters.where()).prefetch_related("matches")
    page = keyset_page(rows, cursor=filters.cursor, limit=filters.limit, time_field="published_at")
    return {"items": page.rows, "next_cursor": page.next_cursor}


@router.get(
    "/listening/dashboard",
    response=dict[str, Any],
    summary="Volume, sentiment, who, where, how, share of voice",
)
def dashboard(request, filters: Query[MentionFilters]):
    data = queries.dashboard(request.auth, filters.where())
    data["buckets"] = [{**b, "start": b["start"].isoformat()} for b in data["buckets"]]
    data["start"], data["end"] = data["start"].isoformat(), data["end"].isoformat()
    data["top_terms"] = [{"term": term, "n": n} for term, n in data["top_terms"]]
    return data


# --- alerts and crisis mode -------------------------------------------------------------------


@router.get("/listening/alerts", response=list[AlertOut])
def list_alerts(request, status: CrisisAlert.Status | None = None, limit: int = Query(50, ge=1, le=200)):
    rows = queries.alerts(request.auth)
    if status:
        rows = rows.filter(status=status)
    return list(rows[:limit])


@router.post("/listening/alerts/{int:alert_id}/status", response=AlertOut)
def alert_status(request, alert_id: RowId, payload: AlertStatusIn):
    actor = request.auth
    return services.set_alert_status(actor=actor, alert=queries.alert(actor, alert_id), status=payload.status)


@router.get("/listening/crisis", response=CrisisOut)
def get_crisis(request):
    actor = request.auth
    actor.require(Perm.ITEMS_VIEW)
    return _crisis_out(services.current_crisis(actor.organisation))


@router.post("/listening/crisis", response=CrisisOut, summary="Switch crisis mode on or off")
def switch_crisis(request, payload: CrisisIn):
    actor = request.auth
    alert = queries.alert(actor, payload.alert_id) if payload.alert_id else None
    crisis = services.switch_crisis_mode(actor=actor, on=payload.on, reason=payload.reason, alert=alert)
    return _crisis_out(crisis)


def _mention_triage(mention) -> dict[str, Any]:
    [shown] = mention_corrections.triage_of([mention])
    return triage_out(mention, shown.sentiment, shown.intent)


@router.get(
    "/listening/mentions/{int:mention_id}/triage",
    response=TriageOut,
    summary="A mention's sentiment and intent, as detected and as people corrected them",
)
def get_mention_triage(request, mention_id: RowId):
    return _mention_triage(mention_corrections.mention_of(actor=request.auth, mention_id=mention_id))


@router.post(
    "/listening/mentions/{int:mention_id}/corrections",
    response={201: TriageOut},
    summary="Correct a mention's sentiment or intent (learnt by the next training)",
)
def correct_mention(request, mention_id: RowId, payload: CorrectionIn):
    mention = mention_corrections.mention_of(actor=request.auth, mention_id=mention_id)
    mention_corrections.correct_mention(
        actor=request.auth, mention=mention, field=payload.field, value=payload.value
    )
    return Status(201, _mention_triage(mention))
