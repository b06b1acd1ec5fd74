"""The demo brand's inbox: business hours, skills, saved replies, articles, threads in every state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from palabre.demo.loader import load_demo
from palabre.inbox.models import Conversation, InboxSettings, KnowledgeArticle, MemberProfile, SavedReply

NOW = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_the_demo_inbox_is_ready_to_work(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        load_demo(now=NOW)
    rows = Conversation.objects.filter(organisation__slug="demo")
    statuses = set(rows.values_list("status", flat=True))
    assert statuses == {"open", "pending", "closed"}
    assert rows.filter(assignee__isnull=False).count() >= 6
    assert set(rows.values_list("intent", flat=True)) >= {"question", "complaint", "praise", "crisis"}
    assert set(rows.values_list("language", flat=True)) >= {"fr", "en"}
    settings = InboxSettings.objects.get(organisation__slug="demo")
    assert settings.time_zone == "Europe/Paris" and settings.on_call.username == "cm"
    assert set(SavedReply.objects.filter(organisation__slug="demo").values_list("language", flat=True)) == {
        "fr",
        "en",
    }
    assert KnowledgeArticle.objects.filter(organisation__slug="demo").count() >= 4
    skills = {p.user.username: p.skills for p in MemberProfile.objects.filter(organisation__slug="demo")}
    assert "crisis" in skills["cm"] and len(skills) >= 3
    # Nothing of the demo brand leaks into the other demo organisation.
    assert not SavedReply.objects.filter(organisation__slug="brasserie-du-port").exists()
    # The analysis ran after loading: the closed threads stayed closed.
    assert rows.filter(status="closed").exists()
