"""The report of a period: the figures, their comparison with the previous period, the charts,
and the same report as HTML, PDF (WeasyPrint) and CSV (every table, one row per figure)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from palabre.analytics import annotations, charts, crisis
from palabre.analytics.metrics import Filters, Period, cached
from palabre.analytics.templatetags.analytics_format import headline
from palabre.bidi import strip_controls
from palabre.inbox.models import Intent
from palabre.orgs.models import Organisation
from palabre.spreadsheet import safe_cell

DEFAULT_DAYS = 28
# The tiles compare these figures with the previous period: (block, figure, higher is better).
HEADLINES = (
    ("care", "response_rate", True),
    ("care", "first_response_business_median", False),
    ("care", "sla_breaches", False),
    ("care", "out_of_hours_share", False),
    ("quality", "replies_per_post", True),
    ("quality", "substantive_share", True),
    ("health", "toxic_share", False),
    ("listening", "negative_share", False),
    ("team", "after_hours_share", False),
)

HEADLINE_LABELS = {
    "response_rate": _("Response rate"),
    "first_response_business_median": _("First response (median, business time)"),
    "sla_breaches": _("Response target missed"),
    "out_of_hours_share": _("Answered out of hours"),
    "replies_per_post": _("Replies per post"),
    "substantive_share": _("Substantive comments"),
    "toxic_share": _("Rejected as toxic"),
    "negative_share": _("Negative mentions"),
    "after_hours_share": _("Team replies after hours"),
}


def default_period(organisation: Organisation, today: date | None = None) -> Period:
    """The last four weeks, today included, in the organisation's time zone."""
    today = today or timezone.localdate(timezone=_zone(organisation))
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today, organisation.time_zone)


def _zone(organisation: Organisation):
    from zoneinfo import ZoneInfo

    return ZoneInfo(organisation.time_zone)


def build(
    organisation: Organisation,
    period: Period,
    filters: Filters | None = None,
    *,
    now: datetime | None = None,
    with_charts: bool = True,
) -> dict[str, Any]:
    data = cached.report(organisation, period, filters, now=now or timezone.now())
    current, previous = data["current"], data["previous"]
    data["headlines"] = [
        {
            "block": block,
            "name": name,
            "label": HEADLINE_LABELS[name],
            "value": current[block][name],
            "previous": previous[block][name],
            "trend": _trend(name, current[block][name], previous[block][name], higher_is_better),
        }
        for block, name, higher_is_better in HEADLINES
    ]
    name_members(data)
    intents = dict(Intent.choices)
    for block in (current, previous):
        for row in block["care"]["by_intent"]:
            row["label"] = str(intents.get(row["key"], row["key"] or ""))
    data["annotations"] = annotations.timeline_marks(
        organisation, period, filters or Filters(), current["listening"]["alert_list"]
    )
    if with_charts:
        per_day, marks = current["listening"]["per_day"], data["annotations"]
        by_channel, members = current["care"]["by_channel"], current["team"]["members"]
        # Each drawn when a template shows it: a period without mentions, posts or campaigns shows
        # no time chart, and the files show no phone drawing (pygal's SVG of 90 days costs
        # milliseconds of a cold page's CPU).
        data["charts"] = {
            "mentions": Drawing(lambda: charts.mentions_chart(per_day, marks)),
            # the same for a phone, shown on the dashboard only (the files are read at a page's width)
            "mentions_compact": Drawing(lambda: charts.mentions_chart(per_day, marks, compact=True)),
            "response": Drawing(lambda: charts.response_chart(by_channel)),
            "response_compact": Drawing(lambda: charts.response_chart(by_channel, compact=True)),
            "team": Drawing(lambda: charts.team_chart(members)),
            "team_compact": Drawing(lambda: charts.team_chart(members, compact=True)),
        }
    return data


class Drawing:
    """A chart drawn the first time it is asked for (a template calls what it is given), then kept."""

    def __init__(self, draw: Callable[[], SafeString]):
        self._draw = draw
        self._svg: SafeString | None = None

    def __call__(self) -> SafeString:
        if self._svg is None:
            self._svg = self._draw()
        return self._svg


def name_members(data: dict[str, Any]) -> dict[str, Any]:
    """Labels the members' rows of both periods (team, care per member) with the name their
    colleagues know them by (the account's name, else its login), as the screens and the API show."""
    rows = [
        row
        for block in (data["current"], data["previous"])
        for row in (*block["team"]["members"], *block["care"]["by_member"])
    ]
    names = member_names({row["key"] for row in rows if row["key"] is not None})
    for row in rows:
        if row["key"] in names:
            row["label"] = names[row["key"]]
    return data


def member_names(user_ids: set[int]) -> dict[int, str]:
    """Each user's full name, or their login where the account has none (one query)."""
    if not user_ids:
        return {}
    people = get_user_model().objects.filter(pk__in=user_ids)
    return {person.pk: person.get_full_name() or person.get_username() for person in people}


def _trend(name: str, value: float | None, previous: float | None, higher_is_better: bool) -> str:
    """better, worse or same: how the figure moved since the previous period, as the tile shows it
    (99.7 % after 100 % both read "100 %": a red tile between two equal figures reads as a fault)."""
    if value is None or previous is None:
        return "same"
    if headline({"name": name, "value": value}) == headline({"name": name, "value": previous}):
        return "same"
    return "better" if (value > previous) == higher_is_better else "worse"


def render_html(data: dict[str, Any], organisation: Organisation) -> str:
    """A standalone HTML document (styles inline), the same for the browser and for the PDF; it
    ends with the crisis timeline of each alert of the period (its figures and volume curve)."""
    crises = [
        {"timeline": timeline, "chart": charts.crisis_chart(timeline)}
        for timeline in (
            crisis.crisis_timeline(organisation, row["id"])
            for row in data["current"]["listening"]["alert_list"]
        )
    ]
    return render_to_string(
        "analytics/report.html", {"report": data, "organisation": organisation, "crises": crises}
    )


class PdfUnavailable(RuntimeError):
    """WeasyPrint cannot draw on this server: Pango, the text layout library it loads when
    imported, is not installed (Debian: libpango-1.0-0 and libpangoft2-1.0-0)."""


def render_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as error:  # cffi's "cannot load library 'libpango-1.0-0'"
        raise PdfUnavailable(str(error)) from error
    # The PDF is drawn from the HTML, not from a page answer: palabre.bidi's middleware is not on its way.
    return HTML(string=strip_controls(html)).write_pdf()


# --- CSV: every table of the report, one line per figure --------------------------------------------

CSV_HEADER = ["table", "row", "figure", "value", "previous_value"]


def csv_rows(data: dict[str, Any]) -> list[list[Any]]:
    """[table, row, figure, value, previous value]: the blocks' single figures (row empty), then
    every row of their tables, keyed by what the row is (a channel, a member, a day, a query)."""
    current, previous = data["current"], data["previous"]
    rows: list[list[Any]] = []
    for block, figures in current.items():
        for name, value in figures.items():
            if isinstance(value, list):
                before = {_row_key(row): row for row in previous[block].get(name, [])}
                for row in value:
                    key = _row_key(row)
                    for field, cell in row.items():
                        if field in ("key", "label", "name", "query", "day"):
                            continue
                        rows.append(
                            [
                                f"{block}.{name}",
                                safe_cell(key),
                                field,
                                _cell(cell),
                                _cell(before.get(key, {}).get(field)),
                            ]
                        )
            else:
                rows.append([block, "", name, _cell(value), _cell(previous[block].get(name))])
    return rows


def _row_key(row: dict[str, Any]) -> str:
    for field in ("label", "name", "query", "day", "rule", "key"):
        if field in row and row[field] not in (None, ""):
            value = row[field]
            return value.isoformat() if isinstance(value, date) else str(value)
    return ""


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 4)
    return safe_cell(value)


def write_csv(data: dict[str, Any], stream: IO[str]) -> None:
    writer = csv.writer(stream)
    writer.writerow(CSV_HEADER)
    writer.writerows(csv_rows(data))
