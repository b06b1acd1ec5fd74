"""What the listening pages share: the mentions' filter form and the charts' bars."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from palabre.listening import queries
from palabre.listening.forms import (
    MentionFilterForm,
)
from palabre.listening.models import Sentiment
from palabre.orgs.services import Actor

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
