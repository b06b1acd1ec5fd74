"""The demo brand has a living editorial calendar."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from palabre.demo.loader import load_demo
from palabre.orgs.models import Organisation
from palabre.publishing.models import Post, PostVariant, VariantState


def test_demo_calendar(db):
    now = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)  # as the demo's own tests, for a stable calendar
    load_demo(now=now)
    brand = Organisation.objects.get(slug="demo")
    statuses = Counter(Post.objects.filter(organisation=brand).values_list("status", flat=True))
    assert statuses["draft"] >= 2 and statuses["pending"] == 1 and statuses["rejected"] == 1
    assert statuses["approved"] >= 3
    scheduled = PostVariant.objects.filter(organisation=brand, state=VariantState.SCHEDULED)
    assert scheduled.count() >= 4 and all(v.scheduled_at > now for v in scheduled)
    blocked_draft = Post.objects.get(organisation=brand, title__startswith="Offre bougies")
    assert blocked_draft.variants.get().guardrail_verdict == "block"
    assert not Post.objects.filter(organisation__slug="brasserie-du-port").exists()
