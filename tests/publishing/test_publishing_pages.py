"""Publishing pages with Django's test client: calendar, editor, post page, moves, access."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from palabre.orgs.permissions import Role
from palabre.publishing import services
from palabre.publishing.models import Post, PostStatus, VariantState

pytestmark = pytest.mark.clock


@pytest.fixture
def contributor_client(client, contributor):
    client.force_login(contributor.user)
    return client


@pytest.fixture
def cm_client(client, cm):
    client.force_login(cm.user)
    return client


def test_the_editor_keeps_what_was_typed_on_error(contributor_client, forum):
    answer = contributor_client.post(
        "/publishing/new/", {"title": "", "text": "Mon texte précieux", "channels": [forum.pk]}
    )
    assert answer.status_code == 200
    assert "Mon texte précieux" in answer.content.decode()
    assert Post.objects.count() == 0


def test_drafting_shows_the_coaching_on_the_post_page(contributor_client, forum):
    answer = contributor_client.post(
        "/publishing/new/",
        {"title": "Soldes", "text": "Soldes : -30 % sur nos canapés #IranElection", "channels": [forum.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = answer.content.decode()
    assert answer.status_code == 200
    assert '<mark class="block">#IranElection</mark>' in page
    assert "A promotion next to it reads as selling on a tragedy" in page or "promotion" in page


def test_live_check_answers_a_partial(contributor_client, forum):
    answer = contributor_client.post(
        "/publishing/check/", {"text": "NOUVELLE COLLECTION DISPONIBLE EN BOUTIQUE", "channels": [forum.pk]}
    )
    assert answer.status_code == 200
    assert 'id="live-check"' in answer.content.decode() and "warn" in answer.content.decode()


def test_calendar_month_and_week_show_scheduled_posts(cm_client, cm, forum):
    zone = ZoneInfo(cm.organisation.time_zone)
    at = (
        (timezone.now() + timedelta(days=2))
        .astimezone(zone)
        .replace(hour=11, minute=0, second=0, microsecond=0)
    )
    post = services.create_post(
        actor=cm,
        title="Portes ouvertes",
        variants=[{"channel": forum, "text": "Samedi à l'atelier", "scheduled_at": at}],
    )
    services.approve_post(actor=cm, post=post)
    for view in ("month", "week"):
        page = cm_client.get(f"/publishing/?view={view}&date={at.date().isoformat()}").content.decode()
        assert f'data-date="{at.date().isoformat()}"' in page
        assert "Portes ouvertes" in page and "11:00" in page and 'draggable="true"' in page


def test_move_keeps_the_time_of_day_and_keyboard_shifts(cm_client, cm, forum):
    zone = ZoneInfo(cm.organisation.time_zone)
    at = (
        (timezone.now() + timedelta(days=2))
        .astimezone(zone)
        .replace(hour=11, minute=0, second=0, microsecond=0)
    )
    post = services.create_post(
        actor=cm, title="P", variants=[{"channel": forum, "text": "Bonjour", "scheduled_at": at}]
    )
    services.approve_post(actor=cm, post=post)
    variant = post.variants.get()
    target = (at + timedelta(days=3)).date()
    answer = cm_client.post(f"/publishing/variants/{variant.pk}/move/", {"date": target.isoformat()})
    assert answer.status_code == 200, answer.content
    variant.refresh_from_db()
    local = variant.scheduled_at.astimezone(zone)
    assert (local.date(), local.hour) == (target, 11) and variant.state == VariantState.SCHEDULED
    cm_client.post(f"/publishing/variants/{variant.pk}/move/", {"hours": "1"})
    variant.refresh_from_db()
    assert variant.scheduled_at.astimezone(zone).hour == 12
    bad = cm_client.post(f"/publishing/variants/{variant.pk}/move/", {"date": "2001-01-01"})
    assert bad.status_code == 422 and bad.json()["error"]


def test_approval_from_the_page_needs_the_acknowledgement(cm_client, cm, forum):
    post = services.create_post(
        actor=cm, title="Cris", variants=[{"channel": forum, "text": "VENEZ NOMBREUX CE SAMEDI MATIN"}]
    )
    cm_client.post(f"/publishing/posts/{post.pk}/approve/")
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT
    cm_client.post(f"/publishing/posts/{post.pk}/approve/", {"acknowledge_warnings": "on"})
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


def test_access_and_isolation(client, org, forum, make_member, make_org, owner_of, cm):
    post = services.create_post(actor=cm, title="Interne", variants=[{"channel": forum, "text": "Bientôt"}])
    analyst = make_member(org, Role.ANALYST).user
    client.force_login(analyst)
    assert client.get("/publishing/").status_code == 403
    assert client.get("/publishing/new/").status_code == 403
    other = make_org()
    client.force_login(owner_of(other))
    assert client.get(f"/publishing/posts/{post.pk}/").status_code == 404
    assert (
        client.post(f"/publishing/variants/{post.variants.get().pk}/move/", {"days": "1"}).status_code == 404
    )
    assert "Interne" not in client.get("/publishing/").content.decode()


def test_dashboard_tiles(cm_client, cm, forum):
    services.create_post(actor=cm, title="P", variants=[{"channel": forum, "text": "Bonjour"}])
    page = cm_client.get("/").content.decode()
    assert "/publishing/" in page


def test_pages_speak_french(cm_client, cm, forum, ingest):
    from datetime import datetime

    ingest(
        forum,
        "p1",
        kind="post",
        author=forum.handle,
        text="Nouveauté",
        created_at=datetime(2026, 1, 6, 18, tzinfo=ZoneInfo("UTC")),
        metrics={"likes": 4},
    )
    post = services.create_post(
        actor=cm, title="Soldes", variants=[{"channel": forum, "text": "Soldes : -30 % #IranElection"}]
    )
    cm_client.cookies["palabre_language"] = "fr"
    calendar = cm_client.get("/publishing/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Calendrier éditorial" in calendar and "Meilleurs moments pour publier" in calendar
    page = cm_client.get(f"/publishing/posts/{post.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Une promotion à côté se lit comme une vente" in page and "Approuver" in page
    assert "touche à un sujet sensible (élections et crises politiques)" in page
