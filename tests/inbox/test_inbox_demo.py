"""The demo brand's inbox: business hours, skills, saved replies, articles, threads in every state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from palabre.demo.loader import load_demo
from palabre.inbox.models import Conversation, InboxSettings, KnowledgeArticle, MemberProfile, SavedReply

NOW = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo, loaded once with the analysis its commit starts, for the module's read-only tests,
    and rolled back after them (each test loaded it again: about 8 s of CPU a pass)."""
    from django.db import transaction
    from django.test import TestCase

    with django_db_blocker.unblock(), transaction.atomic():
        with TestCase.captureOnCommitCallbacks(execute=True):
            load_demo(now=NOW)
        yield
        transaction.set_rollback(True)


def test_the_demo_inbox_is_ready_to_work(demo, db):
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


def test_the_demo_answers_belong_to_the_members_who_signed_them(demo, db):
    from datetime import timedelta

    from palabre.analytics.metrics import Filters, Period
    from palabre.analytics.metrics.team import team
    from palabre.orgs.models import Organisation

    organisation = Organisation.objects.get(slug="demo")
    answered = Conversation.objects.filter(organisation=organisation, first_responded_at__isnull=False)
    assert answered.exists() and not answered.filter(assignee__isnull=True).exists()
    # The founder's own account is his; the answers signed "— Sarah" are the community manager's.
    assert set(
        answered.filter(channel__handle="julien_morel_ml").values_list("assignee__username", flat=True)
    ) == {"admin"}
    period = Period((NOW - timedelta(days=60)).date(), NOW.date(), "Europe/Paris")
    members = team(organisation, period, Filters())["members"]
    assert all(row["key"] is not None for row in members)
    replies = {row["label"]: row["replies"] for row in members}
    assert replies["cm"] > 50 and replies["admin"] >= 1
