"""The charts and figures write numbers and dates as the reader's language does: thousands grouped
(1 500 in French with a no-break space, 1,500 in English), dates in the local short format."""

from __future__ import annotations

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
