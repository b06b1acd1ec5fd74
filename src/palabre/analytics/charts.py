"""The dashboard's charts, drawn on the server as SVG with pygal.

Server-side SVG, so that the page, the HTML report and the PDF (WeasyPrint reads SVG) show the
very same drawing, with no script and nothing to vendor; dates and numbers are written through
Django's localisation in the reader's language before pygal lays them out.
"""

from __future__ import annotations

import math
from typing import Any

import pygal
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pygal.style import Style

# Palabre's palette (static/palabre/app.css); the sentiments keep their usual colours.
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#888",
    font_family="system-ui, sans-serif",
    label_font_size=15,
    major_label_font_size=15,
    legend_font_size=15,
    title_font_size=15,
    value_font_size=12,
    tooltip_font_size=13,
    colors=("#2f6f8f", "#c2703d", "#6b8e23", "#9b59b6", "#b03a2e", "#7f8c8d"),
)
SENTIMENT_STYLE = Style(
    **{key: getattr(STYLE, key) for key in ("background", "plot_background", "foreground", "font_family")},
    label_font_size=13,
    legend_font_size=13,
    colors=("#b03a2e", "#9aa5ab", "#3c8d5a"),
)
WIDTH, HEIGHT = 720, 320
# A bar chart's unit under its values, above the legend: the room it takes, and the bottom margin
# that keeps the legend's last row inside the drawing below it.
AXIS_TITLE_HEIGHT, AXIS_TITLE_MARGIN = 32, 40
# The campaigns on the time chart (series 5 to 8, after the mentions, their tone, the posts and
# the alerts): a light band from the time axis up to the campaign's lane over its days, so that the
# curve stays readable through it; the lane's edge keeps the campaign's colour.
BANDS_CSS = "{chart} .serie-{n} .line.reactive {{ fill-opacity: .13; stroke-opacity: .9; }}"
# Campaigns drawn at once on the time chart (each a band and a legend entry, the first ones by
# start); every one is listed under the chart.
MAX_CAMPAIGNS_DRAWN = 4


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return formats.number_format(value, decimal_pos=0, use_l10n=True, force_grouping=True)


def _options(**extra: Any) -> dict[str, Any]:
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "js": [],  # no script: the page's policy allows none, and the PDF could not run it
        "disable_xml_declaration": True,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "truncate_legend": 40,
        "truncate_label": 28,
        # pygal's own words when a chart has no value (a filter that keeps no answered thread)
        "no_data_text": _("No figures for this period"),
        "style": STYLE,
        "margin": 8,
        "margin_bottom": 28,  # room for the legend under the axis labels
        # axis and value labels alike, grouped as the reader's language writes thousands (1 500, 1,500)
        "value_formatter": _number,
        **extra,
    }


def _render(chart: pygal.graph.graph.Graph, title: str) -> SafeString:
    chart.title = None
    svg = chart.render(is_unicode=True)
    # pygal writes labels through lxml, which escapes them; the title is ours.
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{_escape(title)}" ', 1))  # noqa: S308


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _day_labels(days: list[Any]) -> list[str]:
    return [formats.date_format(day, "SHORT_DATE_FORMAT", use_l10n=True) for day in days]


# The time chart: the volume and its tone, then what happened on those days (annotations).
TIMELINE_STYLE = Style(
    **{key: getattr(STYLE, key) for key in ("background", "plot_background", "foreground", "font_family")},
    label_font_size=13,
    major_label_font_size=13,  # pygal's default writes 100 smaller than 80 and 120
    legend_font_size=13,
    opacity=".55",
    opacity_hover=".7",
    colors=(
        "#9aa5ab",
        "#b03a2e",
        "#3c8d5a",
        "#222222",
        "#e67e22",
        "#9b59b6",
        "#2f6f8f",
        "#6b8e23",
        "#c2703d",
    ),
)


def _round_step(rough: float) -> int:
    """The whole step of 1, 2 or 5 times a power of ten at or above `rough`: 1, 2, 5, 10, 20..."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if factor * power >= rough:
                return factor * power
        power *= 10


class _BandedLine(pygal.Line):
    """pygal closes a filled series at the chart's first day even when the series starts later
    (None before it): a campaign's band is closed at its own first and last days instead."""

    def _fill(self, values):
        kept = [(x, y) for x, y in values if x is not None and y is not None]
        if not kept:
            return values
        zero = self.view.y(min(max(self.zero, self._box.ymin), self._box.ymax))
        return [(kept[0][0], zero), *kept, (kept[-1][0], zero)]


def mentions_chart(
    per_day: list[dict[str, Any]], marks: dict[str, Any] | None = None, *, compact: bool = False
) -> SafeString:
    """Mentions per day and their negative and positive parts; with `marks`
    (`annotations.timeline_marks`), the days of the posts published (dots on the time axis), of
    the crisis alerts (on the curve) and the campaigns running (a band above the curve each).

    `compact` draws it for a phone's width (narrower, fewer day labels, one legend entry a row),
    shown there instead."""
    days = [row["day"] for row in per_day]
    index = {day: n for n, day in enumerate(days)}
    totals = [row["total"] for row in per_day]
    campaigns = (marks or {}).get("campaigns", [])[:MAX_CAMPAIGNS_DRAWN]
    # Whole numbers on the axis (mentions are counted), with a free step above the curve for the
    # campaigns' bands.
    step = _round_step(max([*totals, 1]) / 5)
    ceiling = (math.ceil(max([*totals, 1]) / step) + (1 if campaigns else 0)) * step
    entries = 3 + (2 + len(campaigns) if marks else 0)
    legend_rows = entries if compact else (entries + 1) // 2
    chart = _BandedLine(
        **_options(
            style=TIMELINE_STYLE,
            width=400 if compact else WIDTH,
            # pygal makes room for the legend's rows below the axis labels
            height=(260 if compact else HEIGHT) + 20 * legend_rows,
            legend_at_bottom_columns=1 if compact else 2,
            x_label_rotation=-45,
            show_minor_x_labels=True,
            dots_size=2,
            y_labels=list(range(0, ceiling + 1, step)),
        )
    )
    # After pygal's own style sheets, scoped to this chart's id as pygal scopes its own rules.
    bands = " ".join(BANDS_CSS.format(chart=f"#chart-{chart.uuid}", n=n) for n in range(5, 9))
    chart.css = ["file://style.css", "file://graph.css", f"inline:{bands}"]
    chart.x_labels = _day_labels(days)
    if len(per_day) > (7 if compact else 14):
        chart.x_labels_major_every = max(1, len(per_day) // (4 if compact else 7))
        chart.show_minor_x_labels = False
    chart.add(_("Mentions"), totals, fill=True)
    chart.add(_("Negative"), [row["negative"] for row in per_day], fill=True)
    chart.add(_("Positive"), [row["positive"] for row in per_day])
    if marks is not None:
        posts: list[int | None] = [None] * len(days)
        for row in marks.get("posts", []):
            if row["day"] in index:
                posts[index[row["day"]]] = 0  # on the time axis
        chart.add(_("Posts published"), posts, stroke=False, dots_size=4)
        alerts: list[int | None] = [None] * len(days)
        for row in marks.get("alerts", []):
            if row["day"] in index:
                alerts[index[row["day"]]] = totals[index[row["day"]]]
        chart.add(_("Crisis alerts"), alerts, stroke=False, dots_size=7)
        for rank, campaign in enumerate(campaigns):
            # A band over the campaign's days, from the time axis to its own lane above the curve
            # (lanes apart, so that overlapping campaigns stay told apart); bands.css keeps it light.
            height = ceiling - step * (0.2 + 0.2 * rank)
            band = [height if campaign["first"] <= day <= campaign["last"] else None for day in days]
            label = _("Campaign: %(name)s") % {"name": campaign["name"]}
            one_day = sum(value is not None for value in band) == 1
            chart.add(
                label,
                band,
                fill=True,
                stroke_style={"width": 4},
                dots_size=5 if one_day else 0,
            )
    return _render(chart, _("Mentions per day, by sentiment"))


def _rows_height(rows: int) -> int:
    """Horizontal bars: room for each row's label, whatever the number of rows."""
    return max(200, 34 * rows + 110)


def _value_labels(values: list[float | None]) -> list[int]:
    """Round values from 0 to at or past the longest bar, four or five of them: pygal's own stop
    short of the bar and the last one is not drawn, and more overlap once scaled to a phone."""
    top = max([value or 0 for value in values] + [1])
    step = _round_step(top / 4)
    return list(range(0, math.ceil(top / step) * step + 1, step))


def _compact_bars(compact: bool) -> dict[str, Any]:
    """Horizontal bars for a phone's width: narrower, one legend entry a row."""
    return {"width": 400, "legend_at_bottom_columns": 1} if compact else {}


def _row_label(label: str, compact: bool) -> str:
    """A row's label, shortened on a phone (pygal's truncate_label leaves horizontal bars' rows
    whole): the table under the chart names each row in full."""
    return f"{label[:17].rstrip()}…" if compact and len(label) > 18 else label


def response_chart(rows: list[dict[str, Any]], *, compact: bool = False) -> SafeString:
    """Median and p90 first response time (business minutes) per channel; `compact` draws it for
    a phone's width, shown there instead."""
    values = [
        row[key] for row in rows for key in ("first_response_business_median", "first_response_business_p90")
    ]
    chart = pygal.HorizontalBar(
        # A right margin for the last value label, centred on the plot's edge.
        **_options(
            height=_rows_height(len(rows)) + AXIS_TITLE_HEIGHT,
            y_labels=_value_labels(values),
            margin_right=28,
            # The unit under the values (horizontal bars: pygal's x axis is the vertical one).
            x_title=_("Business minutes"),
            margin_bottom=AXIS_TITLE_MARGIN,
            **_compact_bars(compact),
        )
    )
    chart.x_labels = [_row_label(row["label"], compact) for row in rows]
    chart.add(_("Median"), [row["first_response_business_median"] for row in rows])
    chart.add(_("90th percentile"), [row["first_response_business_p90"] for row in rows])
    return _render(chart, _("First response time per channel (business minutes)"))


def team_chart(members: list[dict[str, Any]], *, compact: bool = False) -> SafeString:
    """Replies per member, in business hours and after hours: the job's private-life cost;
    `compact` draws it for a phone's width, shown there instead."""
    # The members by their replies, then the answers no member is known to have written (sent from
    # the platform itself on a thread nobody was assigned): named as such, never ranked as a member.
    # pygal draws the first row at the bottom: the busiest member goes last, on top.
    members = sorted(members, key=lambda row: row["key"] is None)[::-1]
    # One legend entry a row: "Pendant les heures ouvrées" is wider than a column of three.
    chart = pygal.HorizontalStackedBar(
        **_options(
            height=_rows_height(len(members)) + 24 + AXIS_TITLE_HEIGHT,
            **{
                "y_labels": _value_labels([row["replies"] for row in members]),
                "margin_right": 28,
                "x_title": _("Replies"),
                "margin_bottom": AXIS_TITLE_MARGIN,
                "legend_at_bottom_columns": 1,
                **_compact_bars(compact),
            },
        )
    )
    chart.x_labels = [
        _row_label(row["label"] if row["key"] is not None else _("Replies with no known author"), compact)
        for row in members
    ]
    chart.add(_("In business hours"), [row["replies"] - row["after_hours"] for row in members])
    chart.add(_("After hours"), [row["after_hours"] for row in members])
    return _render(chart, _("Replies per member, in and after business hours"))


def _moment_labels(moments: list[Any], zone: Any, every: int) -> list[str]:
    """Every `every`-th instant as its local time, with its day where the day changes; the
    others blank, so that the labels never run into each other."""
    labels, last_day = [], None
    for index, moment in enumerate(moments):
        if index % every:
            labels.append("")
            continue
        local = timezone.localtime(moment, zone)
        text = formats.time_format(local, "TIME_FORMAT", use_l10n=True)
        if local.date() != last_day:
            day = formats.date_format(local, "MONTH_DAY_FORMAT", use_l10n=True)
            text = f"{day} {text}"
            last_day = local.date()
        labels.append(text)
    return labels


def crisis_chart(timeline: Any, *, compact: bool = False) -> SafeString:
    """The alert's volume curve, with the first signal, the alert and the first answer marked.

    `compact` draws it for a phone's width (fewer labels, narrower), shown there instead."""
    buckets = timeline.buckets
    totals = [bucket.total for bucket in buckets]
    marked = []
    for label, moment in (
        (_("First signal"), timeline.first_signal),
        (_("Alert"), timeline.alerted_at),
        (_("First answer"), timeline.first_answer),
    ):
        index = timeline.bucket_index(moment)
        if index is not None:
            marks: list[int | None] = [None] * len(totals)
            marks[index] = totals[index]
            marked.append((label, marks))
    legend_rows = 2 + len(marked) if compact else (2 + len(marked) + 1) // 2
    chart = pygal.Line(
        **_options(
            width=400 if compact else WIDTH,
            height=(340 if compact else HEIGHT) + 24 * legend_rows,
            x_label_rotation=-35,
            dots_size=2,
            # one entry a row on a phone: "Premier signal" ran into the next entry
            legend_at_bottom_columns=1 if compact else 2,
            y_labels_major_count=5,
            show_minor_y_labels=False,
            # pygal makes room for the legend's rows itself: a margin of each row's height on top
            # left an empty band under them.
        )
    )
    chart.x_labels = _moment_labels(
        [b.start for b in buckets], timeline.zone, max(1, len(buckets) // (4 if compact else 8))
    )
    chart.add(_("Mentions"), totals)
    chart.add(_("Negative"), [bucket.negative for bucket in buckets])
    for label, marks in marked:
        chart.add(label, marks, stroke=False, dots_size=7)
    return _render(chart, _("Mentions per bucket during the alert"))
