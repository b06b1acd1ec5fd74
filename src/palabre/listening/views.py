"""Listening pages: dashboard, mentions (with CSV export), queries, sources, alerts and crisis mode.

Thin on purpose: reads through `queries`, every change through `services`. Another organisation's
object answers 404; a page the role may not use answers 403.
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.conversations import corrections as shared_corrections
from palabre.listening import backfill, queries, services
from palabre.listening import corrections as mention_corrections
from palabre.listening.explanations import nature_sentence, warmup_sentence
from palabre.listening.forms import (
    CONFIG_ALIASES,
    CrisisForm,
    MentionFilterForm,
    PlaybookForm,
    QueryForm,
    SourceForm,
    SubscriptionForm,
)
from palabre.listening.models import CrisisAlert, Sentiment
from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view, wants_partial
from palabre.pagination import keyset_page

PER_PAGE = 50
CHART_HEIGHT = 120


# --- filters and charts -------------------------------------------------------------------------


def _filter_form(request: HttpRequest, actor: Actor) -> tuple[MentionFilterForm, queries.MentionFilter]:
    form = MentionFilterForm(
        request.GET or None,
        queries=queries.listening_queries(actor),
        sources=queries.sources(actor),
        languages=queries.mention_languages(actor),
    )
    where = queries.MentionFilter()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        where = queries.MentionFilter(
            query_id=data.get("query"),
            source_id=data.get("source"),
            language=data.get("language") or "",
            sentiment=data.get("sentiment") or "",
            since=data.get("since"),
            until=data.get("until"),
            text=data.get("q") or "",
        )
    return form, where


def _bars(buckets: list[dict[str, Any]], hourly: bool, *, trim: bool = False) -> dict[str, Any]:
    """Stacked bars (negative, neutral, positive) as SVG rectangles, computed here, drawn by the template.

    With `trim` (no start date asked), the empty periods before the first mention are left out
    (keeping a week at least), so the bars are wide enough for a one-day spike to stand out; the
    highest bar is named under the chart."""
    if trim:
        first = next((i for i, b in enumerate(buckets) if b["total"]), len(buckets))
        buckets = buckets[min(first, max(len(buckets) - 7, 0)) :]
    peak = max((b["total"] for b in buckets), default=0) or 1
    width = 100 / max(len(buckets), 1)
    bars = []
    for i, bucket in enumerate(buckets):
        y = CHART_HEIGHT
        parts = []
        for sentiment in (Sentiment.NEGATIVE, Sentiment.NEUTRAL, Sentiment.POSITIVE):
            height = CHART_HEIGHT * bucket[sentiment] / peak
            y -= height
            parts.append({"sentiment": sentiment, "y": round(y, 2), "height": round(height, 2)})
        label = timezone.localtime(bucket["start"]).strftime("%d/%m %Hh" if hourly else "%d/%m")
        bars.append(
            {
                "x": round(i * width, 3),
                "width": round(max(width * 0.8, 0.2), 3),
                "parts": parts,
                "label": label,
                "bucket": bucket,
                "negative_share": round(100 * bucket[Sentiment.NEGATIVE] / bucket["total"])
                if bucket["total"]
                else 0,
            }
        )
    highest = max(bars, key=lambda bar: bar["bucket"]["total"], default=None)
    if highest is not None and highest["bucket"]["total"]:
        highest["peak"] = True
    else:
        highest = None
    return {"bars": bars, "peak": peak, "height": CHART_HEIGHT, "peak_bar": highest, "hourly": hourly}


def _ranked(rows: list[dict], key: str = "n") -> list[dict]:
    peak = max((row[key] for row in rows), default=0) or 1
    return [{**row, "percent": round(100 * row[key] / peak)} for row in rows]


# --- dashboard ----------------------------------------------------------------------------------


@member_view(Perm.ITEMS_VIEW)
def overview(request: HttpRequest, actor: Actor) -> HttpResponse:
    form, where = _filter_form(request, actor)
    data = queries.dashboard(actor, where)
    context = {
        "form": form,
        "data": data,
        "chart": _bars(data["buckets"], data["hourly"], trim=where.since is None),
        "top_authors": _ranked(data["top_authors"]),
        "top_sources": _ranked(data["top_sources"]),
        "top_domains": _ranked(data["top_domains"]),
        "top_terms": _ranked([{"term": t, "n": n} for t, n in data["top_terms"]]),
        "share_of_voice": data["share_of_voice"],
        "crisis": services.current_crisis(actor.organisation),
        "open_alerts": queries.alerts(actor).filter(status=CrisisAlert.Status.OPEN)[:5],
        "querystring": request.GET.urlencode(),
    }
    return render(request, "listening/overview.html", context)


# --- mentions -----------------------------------------------------------------------------------


@member_view(Perm.ITEMS_VIEW)
def mentions(request: HttpRequest, actor: Actor) -> HttpResponse:
    form, where = _filter_form(request, actor)
    try:
        page = keyset_page(
            queries.mentions(actor, where),
            cursor=request.GET.get("cursor"),
            limit=PER_PAGE,
            time_field="published_at",
        )
    except ValidationError:
        page = keyset_page(
            queries.mentions(actor, where), cursor=None, limit=PER_PAGE, time_field="published_at"
        )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "form": form,
        "page": page,
        "mention_rows": mention_corrections.triage_of(list(page.rows)),
        **_correction_choices(actor),
        "filters": params.urlencode(),
        "next_query": f"{params.urlencode()}&cursor={page.next_cursor}" if page.next_cursor else "",
    }
    return render(request, "listening/mentions.html", context)


def _correction_choices(actor: Actor) -> dict[str, Any]:
    return {
        "can_correct": actor.can(Perm.MODERATION_ACT),
        "sentiments": shared_corrections.choices("sentiment"),
        "intents": shared_corrections.choices("intent"),
    }


@require_POST
@member_view(Perm.MODERATION_ACT)
def mention_correct(request: HttpRequest, actor: Actor, mention_id: int) -> HttpResponse:
    """Correct a mention's sentiment and/or intent: the fields whose value changed are recorded."""
    mention = mention_corrections.mention_of(actor=actor, mention_id=mention_id)
    [current] = mention_corrections.triage_of([mention])
    changed, errors = shared_corrections.apply_posted(
        request.POST,
        current,
        lambda field, value: mention_corrections.correct_mention(
            actor=actor, mention=mention, field=field, value=value
        ),
    )
    if wants_partial(request):
        [current] = mention_corrections.triage_of([mention])
        context = {"t": current, "errors": errors, "oob": True, **_correction_choices(actor)}
        return render(request, "listening/_mention_triage.html", context, status=422 if errors else 200)
    if errors:
        messages.error(request, " ".join(errors))
    elif changed:
        messages.success(request, _("Correction saved: the next training learns from it."))
    target = request.POST.get("next") or ""
    return redirect(target if target.startswith("/listening/") else "listening:mentions")


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_COLUMNS = [
    "published_at",
    "source",
    "queries",
    "author",
    "author_name",
    "author_reach",
    "domain",
    "language",
    "sentiment",
    "negative_score",
    "url",
    "text",
]


def _csv_cell(value: Any) -> Any:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@member_view(Perm.ITEMS_VIEW)
def mentions_csv(request: HttpRequest, actor: Actor) -> StreamingHttpResponse:
    _form, where = _filter_form(request, actor)
    rows = queries.mentions(actor, where).order_by("-published_at", "-id")
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # spreadsheets read the accents right with a BOM
        yield writer.writerow(CSV_COLUMNS)
        for mention in rows.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    _csv_cell(v)
                    for v in (
                        mention.published_at.isoformat(),
                        mention.source.name,
                        "; ".join(q.name for q in mention.queries.all()),
                        mention.author,
                        mention.author_name,
                        mention.author_reach if mention.author_reach is not None else "",
                        mention.domain,
                        mention.language,
                        mention.sentiment,
                        round(mention.negative_score, 3),
                        mention.url,
                        mention.text,
                    )
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mentions-{timezone.now():%Y%m%d-%H%M}.csv"'
    return response


# --- queries ------------------------------------------------------------------------------------


def _query_error_context(form: QueryForm, error: ValidationError) -> dict[str, Any]:
    position = getattr(error, "position", None)
    if position is None:
        return {}
    text = form.data.get("query", "")
    return {
        "caret": {
            "before": text[:position],
            "at": text[position : position + 1] or " ",
            "after": text[position + 1 :],
        }
    }


@member_view(Perm.ITEMS_VIEW)
def query_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = QueryForm(request.POST or None, initial={"kind": "brand", "active": True})
    extra: dict[str, Any] = {}
    if request.method == "POST":
        actor.require(Perm.LISTENING_MANAGE)
        if form.is_valid():
            try:
                created = services.create_query(actor=actor, **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
                extra = _query_error_context(form, error)
            else:
                messages.success(
                    request,
                    _("Query “%(name)s” created: it is being run over what was already collected.")
                    % {"name": created.name},
                )
                return redirect("listening:query_edit", query_id=created.pk)
    context = {"queries": queries.listening_queries(actor), "form": form, **extra}
    return render(request, "listening/queries.html", context, status=400 if form.errors else 200)


@member_view(Perm.LISTENING_MANAGE)
def query_edit(request: HttpRequest, actor: Actor, query_id: int) -> HttpResponse:
    row = queries.listening_query(actor, query_id)
    initial = {"name": row.name, "query": row.query, "kind": row.kind, "active": row.active}
    form = QueryForm(request.POST or None, initial=initial)
    extra: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid():
        try:
            services.update_query(actor=actor, listening_query=row, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
            extra = _query_error_context(form, error)
        else:
            messages.success(request, _("Query saved."))
            return redirect("listening:queries")
    return render(
        request,
        "listening/query_edit.html",
        {"row": row, "form": form, "backfill": backfill.latest(row), "days": backfill.DEFAULT_DAYS, **extra},
        status=400 if form.errors else 200,
    )


@member_view(Perm.ITEMS_VIEW)
def query_backfill(request: HttpRequest, actor: Actor, query_id: int) -> HttpResponse:
    """The backfill's progress (polled by htmx while it runs); POST starts a new one."""
    row = queries.listening_query(actor, query_id)
    if request.method == "POST":
        try:
            backfill.start(
                actor=actor, listening_query=row, days=request.POST.get("days", backfill.DEFAULT_DAYS)
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        if not wants_partial(request):
            return redirect("listening:query_edit", query_id=row.pk)
    return render(request, "listening/_backfill.html", {"row": row, "backfill": backfill.latest(row)})


@member_view(Perm.ITEMS_VIEW)
def query_preview(request: HttpRequest, actor: Actor) -> HttpResponse:
    """What the query being written would match in recent stored posts (htmx, debounced)."""
    data = request.POST if request.method == "POST" else request.GET
    text = data.get("query", "")
    context: dict[str, Any] = {"empty": not text.strip()}
    if text.strip():
        try:
            context["preview"] = backfill.preview(
                actor=actor, text=text, days=data.get("days") or backfill.DEFAULT_DAYS
            )
        except ValidationError as error:
            context["errors"] = error.messages
            position = getattr(error, "position", None)
            if position is not None:
                context["caret"] = {
                    "before": text[:position],
                    "at": text[position : position + 1] or " ",
                    "after": text[position + 1 :],
                }
    return render(request, "listening/_query_preview.html", context)


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def query_delete(request: HttpRequest, actor: Actor, query_id: int) -> HttpResponse:
    row = queries.listening_query(actor, query_id)
    services.delete_query(actor=actor, listening_query=row)
    messages.success(request, _("Query “%(name)s” deleted.") % {"name": row.name})
    return redirect("listening:queries")


# --- sources ------------------------------------------------------------------------------------


@member_view(Perm.ITEMS_VIEW)
def source_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = SourceForm(request.POST or None, initial={"interval_minutes": 15})
    if request.method == "POST":
        actor.require(Perm.LISTENING_MANAGE)
        if form.is_valid():
            try:
                created = services.create_source(
                    actor=actor,
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    config=form.config(),
                    interval_minutes=form.cleaned_data["interval_minutes"],
                )
            except ValidationError as error:
                apply_service_errors(form, error, CONFIG_ALIASES)
            else:
                messages.success(request, _("Source “%(name)s” added.") % {"name": created.name})
                return redirect("listening:sources")
    context = {"sources": queries.sources(actor), "form": form, "now": timezone.now()}
    return render(request, "listening/sources.html", context, status=400 if form.errors else 200)


def _source_initial(source) -> dict[str, Any]:
    config = source.config or {}
    return {
        "name": source.name,
        "kind": source.kind,
        "interval_minutes": source.interval_minutes,
        "url": config.get("url", ""),
        "instance": config.get("instance", ""),
        "hashtag": config.get("hashtag", ""),
        "local": config.get("local", False),
        "endpoint": config.get("endpoint", ""),
        "search": config.get("query", ""),
        "subreddit": config.get("subreddit", ""),
    }


@member_view(Perm.LISTENING_MANAGE)
def source_edit(request: HttpRequest, actor: Actor, source_id: int) -> HttpResponse:
    source = queries.source(actor, source_id)
    form = SourceForm(request.POST or None, initial=_source_initial(source), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_source(
                actor=actor,
                source=source,
                name=form.cleaned_data["name"],
                config=form.config(),
                interval_minutes=form.cleaned_data["interval_minutes"],
            )
        except ValidationError as error:
            apply_service_errors(form, error, CONFIG_ALIASES)
        else:
            messages.success(request, _("Source saved."))
            return redirect("listening:sources")
    return render(
        request,
        "listening/source_edit.html",
        {"source": source, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def source_toggle(request: HttpRequest, actor: Actor, source_id: int) -> HttpResponse:
    source = queries.source(actor, source_id)
    services.update_source(actor=actor, source=source, active=not source.active)
    return redirect("listening:sources")


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def source_poll(request: HttpRequest, actor: Actor, source_id: int) -> HttpResponse:
    source = queries.source(actor, source_id)
    try:
        services.request_poll(actor=actor, source=source)
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    else:
        messages.success(request, _("The source will be polled in a moment; refresh to see its health."))
    return redirect("listening:sources")


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def source_delete(request: HttpRequest, actor: Actor, source_id: int) -> HttpResponse:
    source = queries.source(actor, source_id)
    services.delete_source(actor=actor, source=source)
    messages.success(request, _("Source “%(name)s” removed.") % {"name": source.name})
    return redirect("listening:sources")


# --- alerts and crisis --------------------------------------------------------------------------


@member_view(Perm.ITEMS_VIEW)
def alert_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    page = keyset_page(queries.alerts(actor), cursor=request.GET.get("cursor"), limit=PER_PAGE)
    return render(request, "listening/alerts.html", {"page": page})


@member_view(Perm.ITEMS_VIEW)
def alert_detail(request: HttpRequest, actor: Actor, alert_id: int) -> HttpResponse:
    alert = queries.alert(actor, alert_id)
    context = {
        "alert": alert,
        "why": alert.explanation,
        # a young query's baseline: what history it stood on, in the reader's language
        "warmup": warmup_sentence(alert.explanation["warmup"]) if alert.explanation.get("warmup") else "",
        # crisis or launch, from the negative share, influential authors and emerging terms
        "nature": nature_sentence(alert.explanation),
        "deliveries": alert.deliveries.select_related("subscription"),
        "crisis": services.current_crisis(actor.organisation),
    }
    return render(request, "listening/alert.html", context)


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def alert_status(request: HttpRequest, actor: Actor, alert_id: int) -> HttpResponse:
    alert = queries.alert(actor, alert_id)
    status = request.POST.get("status", "")
    try:
        services.set_alert_status(actor=actor, alert=alert, status=status)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("listening:alert", alert_id=alert.pk)


def _crisis_context(actor: Actor, subscription_form: SubscriptionForm | None = None) -> dict[str, Any]:
    current = services.current_crisis(actor.organisation)
    steps = []
    if current is not None:
        for index, step in enumerate(current.checklist):
            steps.append(
                {**step, "index": index, "label": _(step["text"]) if step.get("default") else step["text"]}
            )
    can_manage = actor.can(Perm.LISTENING_MANAGE)
    playbook_steps = services.playbook_steps(actor.organisation)
    return {
        "current": current,
        "steps": steps,
        "history": queries.crisis_history(actor)[:10],
        "crisis_form": CrisisForm(),
        "playbook_form": PlaybookForm(
            initial={"steps": "\n".join(s["text"] for s in playbook_steps if not s["default"])}
        ),
        "default_playbook": [_(text) for text in services.DEFAULT_PLAYBOOK],
        "subscriptions": queries.subscriptions(actor) if can_manage else [],
        "subscription_form": subscription_form or SubscriptionForm(),
        "can_manage": can_manage,
    }


@member_view(Perm.ITEMS_VIEW)
def crisis(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "listening/crisis.html", _crisis_context(actor))


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def crisis_switch(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = CrisisForm(request.POST)
    form.is_valid()
    on = request.POST.get("on") == "1"
    alert = None
    if request.POST.get("alert"):
        alert = queries.alert(actor, int(request.POST["alert"]))
    services.switch_crisis_mode(actor=actor, on=on, reason=form.cleaned_data.get("reason", ""), alert=alert)
    if on:
        messages.warning(request, _("Crisis mode is on: scheduled promotional posts are paused."))
    else:
        messages.success(request, _("Crisis mode is off."))
    return redirect("listening:crisis")


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def crisis_step(request: HttpRequest, actor: Actor, crisis_id: int, index: int) -> HttpResponse:
    episode = queries.crisis(actor, crisis_id)
    try:
        services.set_checklist_step(
            actor=actor, crisis=episode, index=index, done=request.POST.get("done") == "1"
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("listening:crisis")


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def playbook(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = PlaybookForm(request.POST)
    if form.is_valid():
        try:
            services.update_playbook(actor=actor, steps=form.cleaned_data["steps"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Playbook saved; it applies to the next crisis."))
    return redirect("listening:crisis")


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def subscription_add(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = SubscriptionForm(request.POST)
    if form.is_valid():
        try:
            services.add_subscription(actor=actor, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Alert recipient added."))
            return redirect("listening:crisis")
    # Re-rendered with what was typed and the errors next to it.
    return render(request, "listening/crisis.html", _crisis_context(actor, form), status=400)


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def subscription_remove(request: HttpRequest, actor: Actor, subscription_id: int) -> HttpResponse:
    services.remove_subscription(actor=actor, subscription=queries.subscription(actor, subscription_id))
    messages.success(request, _("Alert recipient removed."))
    return redirect("listening:crisis")


# --- home page panel ----------------------------------------------------------------------------


def dashboard_panel(request: HttpRequest, actor: Actor) -> dict[str, Any] | None:
    if not actor.can(Perm.ITEMS_VIEW):
        return None
    from django.urls import reverse

    since = timezone.now() - timezone.timedelta(days=1)
    counts = [
        {
            "label": _("Mentions in the last 24 hours"),
            "value": queries.mentions(actor).filter(published_at__gte=since).count(),
            "url": reverse("listening:mentions"),
        },
        {
            "label": _("Open crisis alerts"),
            "value": queries.alerts(actor).filter(status=CrisisAlert.Status.OPEN).count(),
            "url": reverse("listening:alerts"),
        },
    ]
    return {"counts": counts}
