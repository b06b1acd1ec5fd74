"""The demo brand's listening: queries of each kind, sources, mentions over weeks, a spike, one alert."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from palabre.demo.loader import load_demo
from palabre.listening.models import CrisisAlert, ListeningQuery, ListeningSource, Mention
from palabre.orgs.models import Organisation

NOW = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_demo_brand_listens_with_a_visible_spike_and_an_alert():
    began = time.perf_counter()
    load_demo(now=NOW)
    elapsed = time.perf_counter() - began
    brand = Organisation.objects.get(slug="demo")
    kinds = set(ListeningQuery.objects.filter(organisation=brand).values_list("kind", flat=True))
    assert kinds == {"brand", "competitor", "topic"}
    assert ListeningQuery.objects.filter(organisation=brand, kind="competitor").count() == 2
    assert ListeningSource.objects.filter(organisation=brand).count() >= 5
    mentions = Mention.objects.filter(organisation=brand)
    assert 200 <= mentions.count() <= 800
    oldest = mentions.order_by("published_at").first().published_at
    assert NOW - oldest > timedelta(days=14)
    recent = mentions.filter(
        published_at__gte=NOW - timedelta(days=4), published_at__lt=NOW - timedelta(days=2)
    )
    assert recent.filter(sentiment="negative").count() > 20
    (alert,) = CrisisAlert.objects.filter(organisation=brand)
    assert alert.query.name == "Maison Lumière" and alert.explanation["terms"]
    other = Organisation.objects.get(slug="brasserie-du-port")
    assert not Mention.objects.filter(organisation=other).exists()
    print(f"demo loaded in {elapsed:.1f} s")
