"""The charts and figures write numbers and dates as the reader's language does: thousands grouped
(1 500 in French with a no-break space, 1,500 in English), dates in the local short format."""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
from django.utils import translation

from palabre.analytics import charts
from palabre.analytics.templatetags.analytics_format import number

NBSP = "\xa0"  # Django's French THOUSAND_SEPARATOR


def _texts(svg: str) -> set[str]:
    return set(re.findall(r"<text[^>]*>([^<]+)</text>", svg))


@pytest.mark.parametrize(("language", "thousands"), [("fr", f"2{NBSP}000"), ("en", "2,000")])
def test_axis_labels_group_thousands_in_the_readers_language(language, thousands):
    rows = [{"label": "Blog", "first_response_business_median": 1500, "first_response_business_p90": 3200}]
    with translation.override(language):
        texts = _texts(charts.response_chart(rows))
    assert thousands in texts
    assert "2000" not in texts


@pytest.mark.parametrize(("language", "day"), [("fr", "08/06/2026"), ("en", "06/08/2026")])
def test_day_labels_in_the_readers_language(language, day):
    per_day = [{"day": date(2026, 6, 8), "total": 1200, "negative": 300, "positive": 100}]
    with translation.override(language):
        svg = charts.mentions_chart(per_day)
    assert day in _texts(svg)


def test_figures_group_thousands_too():
    with translation.override("fr"):
        assert number(12345) == f"12{NBSP}345"
        assert number(1234.56, 1) == f"1{NBSP}234,6"
    with translation.override("en"):
        assert number(12345) == "12,345"


def _legend_overlaps(svg: str, font_size: int) -> list[tuple[str, str]]:
    """Legend entries on one row whose text (estimated at 0.6 em a character) runs into the next."""
    entries = [
        (float(x), float(y), text)
        for x, y, text in re.findall(
            r'<g id="activate-serie-\d+" class="legend[^"]*"><rect x="([\d.]+)" y="([\d.]+)"[^>]*/><text[^>]*>([^<]*)</text>',
            svg,
        )
    ]
    overlaps = []
    for (x, y, text), (next_x, next_y, next_text) in itertools.pairwise(entries):
        if next_y == y and x + 17 + 0.6 * font_size * len(text) > next_x:
            overlaps.append((text, next_text))
    return overlaps


@pytest.mark.parametrize("language", ["fr", "en"])
def test_legends_never_run_into_each_other(language):
    members = [
        {"key": 3, "label": "Personne", "replies": 82, "after_hours": 34},
        {"key": 4, "label": "modo", "replies": 1, "after_hours": 1},
    ]
    rows = [{"label": "Blog", "first_response_business_median": 30, "first_response_business_p90": 90}]
    per_day = [{"day": date(2026, 6, 8), "total": 12, "negative": 3, "positive": 1}]
    with translation.override(language):
        drawn = {
            "team": (charts.team_chart(members), charts.STYLE.legend_font_size),
            "response": (charts.response_chart(rows), charts.STYLE.legend_font_size),
            "mentions": (charts.mentions_chart(per_day), charts.SENTIMENT_STYLE.legend_font_size),
        }
    for name, (svg, font_size) in drawn.items():
        assert _legend_overlaps(svg, font_size) == [], name


def _text_x(svg: str, text: str) -> float:
    return float(re.search(rf'<text[^>]*x="([\d.]+)"[^>]*>{text}</text>', svg).group(1))


def test_the_value_axis_reaches_past_the_longest_bar_and_its_last_label_fits():
    rows = [{"label": "Facebook", "first_response_business_median": 20, "first_response_business_p90": 1950}]
    members = [{"key": 3, "label": "sarah", "replies": 86, "after_hours": 31}]
    with translation.override("fr"):
        response, team = charts.response_chart(rows), charts.team_chart(members)
    assert f"2{NBSP}000" in _texts(response) and "100" in _texts(team)
    # Centred on the plot's right edge, the last label keeps its half width inside the drawing.
    for svg, last in ((response, f"2{NBSP}000"), (team, "100")):
        assert _text_x(svg, last) + 0.6 * charts.STYLE.label_font_size * len(last) / 2 <= charts.WIDTH


def test_answers_of_no_known_member_are_named_so_and_drawn_below_the_members():
    members = [
        {"key": None, "label": "", "replies": 86, "after_hours": 31},
        {"key": 3, "label": "sarah", "replies": 12, "after_hours": 2},
        {"key": 4, "label": "thomas", "replies": 5, "after_hours": 0},
    ]
    with translation.override("fr"):
        svg = charts.team_chart(members)
    drawn = re.findall(r"<text[^>]*>([^<]+)</text>", svg)
    names = [text for text in drawn if text in {"Réponses sans auteur identifié", "thomas", "sarah"}]
    # pygal draws the first row at the bottom: the members from the top by replies, then them.
    assert names == ["Réponses sans auteur identifié", "thomas", "sarah"]
    assert "Personne n’est assigné" not in svg


def test_a_campaign_is_a_band_over_its_days_from_the_time_axis():
    days = [date(2026, 6, d) for d in range(1, 11)]
    per_day = [{"day": day, "total": 10, "negative": 2, "positive": 3} for day in days]
    marks = {"campaigns": [{"name": "Soldes", "first": date(2026, 6, 4), "last": date(2026, 6, 7)}]}
    svg = charts.mentions_chart(per_day, marks)

    def outline(serie: int) -> list[tuple[float, float]]:
        path = re.search(rf'<g class="series serie-{serie} color-{serie}"><path d="M([^"]+)"', svg).group(1)
        numbers = [float(v) for v in path.replace("L", " ").split()]
        return list(zip(numbers[::2], numbers[1::2], strict=True))

    # The mentions' outline gives each day's x; the band's is closed on the time axis at the
    # campaign's first and last days.
    xs = sorted({x for x, _y in outline(0)})
    points = outline(5)
    assert {round(x) for x, _y in points} == {round(x) for x in xs[3:7]}
    bottom = max(y for _x, y in points)
    assert points[0][1] == bottom and points[-1][1] == bottom
    assert round(points[0][0]) == round(xs[3]) and round(points[-1][0]) == round(xs[6])
    assert "fill-opacity:.13" in svg.replace(" ", "")


def test_the_bar_charts_have_a_narrow_drawing_for_phones():
    rows = [
        {
            "label": "Julien Morel, co-fondateur (compte personnel)",
            "first_response_business_median": 20,
            "first_response_business_p90": 90,
        }
    ]
    members = [{"key": 3, "label": "sarah", "replies": 86, "after_hours": 31}]
    for svg in (charts.response_chart(rows, compact=True), charts.team_chart(members, compact=True)):
        assert 'viewBox="0 0 400 ' in svg
    assert "Julien Morel, co-fondateur (compte personnel)" not in _texts(
        charts.response_chart(rows, compact=True)
    )


@pytest.mark.parametrize(("compact"), [False, True])
def test_bar_charts_say_their_unit_and_keep_it_and_the_legend_inside_the_drawing(compact):
    """A bare 2 000 under a bar says nothing to a manager: minutes, hours or replies? The unit sits
    under the values, above the legend, and the legend is not cut off by the drawing's edge."""
    rows = [
        {
            "label": f"Canal {n}",
            "first_response_business_median": 20 * n,
            "first_response_business_p90": 400 * n,
        }
        for n in range(1, 10)
    ]
    members = [{"key": n, "label": f"membre {n}", "replies": 10 * n, "after_hours": n} for n in range(1, 6)]
    with translation.override("fr"):
        drawn = {
            "Minutes ouvrées": charts.response_chart(rows, compact=compact),
            "Réponses": charts.team_chart(members, compact=compact),
        }
    for unit, svg in drawn.items():
        height = float(re.search(r'viewBox="0 0 [\d.]+ ([\d.]+)"', svg).group(1))
        title = re.search(rf'<text[^>]*y="([\d.]+)"[^>]*class="title"[^>]*>{unit}</text>', svg)
        legends = re.search(r'<g transform="translate\([\d.]+, ([\d.]+)\)" class="legends">', svg)
        rows_y = [float(y) for y in re.findall(r'class="legend[^"]*"><rect x="[\d.]+" y="([\d.]+)"', svg)]
        assert title and legends and rows_y, unit
        top, bottom = float(legends.group(1)) + min(rows_y), float(legends.group(1)) + max(rows_y)
        assert float(title.group(1)) < top, unit
        assert bottom + charts.STYLE.legend_font_size <= height, unit
