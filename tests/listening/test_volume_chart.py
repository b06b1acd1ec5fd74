"""The volume chart makes a one-day spike stand out: the empty weeks before the first mention are
left out, and the highest bar is named under the chart (in the reader's language and formats)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from palabre.connectors.search import Candidate
from palabre.listening.services import ingest_candidates

pytestmark = pytest.mark.clock


@pytest.fixture
def spike(org, make_query, make_source):
    make_query(org, '"Maison Lumière"', name="Marque")
    source = make_source(org, "rss", {"url": "https://blog.example.fr/feed"}, name="Blog")
    now = timezone.now()
    days = [10, 9, 8, 7, 6, 5, 4] + [3] * 12 + [2, 1]
    ingest_candidates(
        source=source,
        candidates=[
            Candidate(
                external_id=f"m{n}",
                text=f"Maison Lumière, message {n}",
                author=f"a{n}",
                published_at=now - timedelta(days=ago),
            )
            for n, ago in enumerate(days)
        ],
    )
    return now - timedelta(days=3)


def test_the_spike_is_the_highest_named_bar_and_empty_weeks_are_left_out(org, owner, spike, client, settings):
    settings.LANGUAGE_CODE = "fr"
    client.force_login(owner)
    response = client.get(reverse("listening:overview"))
    chart = response.context["chart"]
    assert 10 <= len(chart["bars"]) <= 12  # not the 30 days of the period, most of them empty
    assert chart["peak_bar"]["bucket"]["total"] == 12
    when = timezone.localtime(spike).strftime("%d/%m/%Y")
    page = response.content.decode()
    assert f"Au plus haut : 12 mentions le {when}" in page.replace("\u202f", " ")
    assert page.count('class="peak-mark"') == 1


def test_a_chosen_start_date_keeps_every_day(org, owner, spike, client):
    client.force_login(owner)
    since = (timezone.localdate() - timedelta(days=29)).isoformat()
    chart = client.get(reverse("listening:overview"), {"since": since}).context["chart"]
    assert len(chart["bars"]) == 30
