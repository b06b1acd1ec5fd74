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
        {"label": "Personne", "replies": 82, "after_hours": 34},
        {"label": "modo", "replies": 1, "after_hours": 1},
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
