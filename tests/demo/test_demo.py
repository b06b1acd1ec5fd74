"""The demo brand: loaded through the real services, rich enough to show every feature, deterministic."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.db import transaction

from palabre.analytics import annotations, metrics
from palabre.analytics.metrics import Filters
from palabre.analytics.report import default_period
from palabre.connectors.connection import connection_of
from palabre.connectors.models import ActionStatus
from palabre.conversations.models import Contact, Item, ItemKind
from palabre.conversations.services import items_for
from palabre.demo.loader import DEMO_PASSWORD, DemoError, demo_items, demo_spec, load_demo, when
from palabre.orgs.models import Channel, Membership, Organisation, Platform
from palabre.orgs.permissions import Role
from palabre.orgs.services import Actor, memberships_of
from palabre.publishing.models import Campaign, PostStatus, PostVariant, VariantState

# A fixed moment, so that the test reads the same whatever the time of day it runs at.
NOW = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="class")
def loaded(django_db_setup, django_db_blocker):
    """The demo, loaded once for the read-only tests of a class, and rolled back after them."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield load_demo(now=NOW)
        transaction.set_rollback(True)


@pytest.fixture
def summary(loaded, db):
    return loaded


@pytest.fixture
def brand(summary):
    return Organisation.objects.get(slug="demo")


@pytest.fixture
def other(summary):
    return Organisation.objects.get(slug="brasserie-du-port")


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


class TestDemoBrand:
    """Read-only checks, on one load of the demo."""

    def test_summary_names_the_brand_its_items_and_every_login(self, summary, brand):
        assert summary["organisation"] == "Maison Lumière"
        assert summary["items"] >= 300
        assert summary["items"] == Item.objects.filter(organisation=brand).count()
        logins = dict(summary["logins"])
        assert {"camille", "admin", "cm", "modo", "contrib", "analyste", "agence", "yann"} <= set(logins)
        assert "Brasserie du Port" in logins["agence"]
        assert authenticate(username="cm", password=DEMO_PASSWORD) is not None

    def test_every_role_has_a_member(self, brand):
        roles = set(Membership.objects.active().filter(organisation=brand).values_list("role", flat=True))
        assert roles == {role.value for role in Role}
        assert _user("cm").first_name == "Sarah"

    def test_channels_cover_the_platforms_with_credentials_and_an_approved_spokesperson(self, brand):
        channels = Channel.objects.filter(organisation=brand)
        platforms = set(channels.values_list("platform", flat=True))
        expected = {Platform.SITE, Platform.RSS, Platform.EMAIL, Platform.MASTODON, Platform.BLUESKY}
        assert expected | {Platform.X, Platform.FACEBOOK, Platform.INSTAGRAM, Platform.YOUTUBE} <= platforms
        # The site channel is Palabre itself and a public feed needs no login: neither has any.
        # Facebook, Instagram, X and YouTube connect through their platform's authorisation page,
        # with the brand's own app: the demo cannot, so they say honestly that they are not connected.
        social = {Platform.X, Platform.FACEBOOK, Platform.INSTAGRAM, Platform.YOUTUBE}
        assert all(
            c.has_credentials for c in channels if c.platform not in {Platform.RSS, Platform.SITE} | social
        )
        assert all("FAKE" in str(c.read_credentials()) for c in channels if c.has_credentials)
        not_connected = [c for c in channels if c.platform in social]
        assert len(not_connected) >= 5
        assert all(connection_of(c).reason == "no_credentials" for c in not_connected)
        founder = channels.get(kind=Channel.Kind.SPOKESPERSON)
        assert founder.spokesperson == _user("admin")
        assert founder.spokesperson_approved_by == _user("camille")
        assert founder.can_publish
        assert Item.objects.filter(channel=founder).count() >= 10

    def test_items_have_every_kind_both_languages_and_the_expected_topics(self, brand):
        items = list(Item.objects.filter(organisation=brand))
        assert set(ItemKind.values) <= {item.kind for item in items}
        languages = Counter(item.raw["demo"]["lang"] for item in items)
        assert set(languages) == {"fr", "en"}
        assert 0.2 <= languages["en"] / len(items) <= 0.35
        topics = Counter(item.raw["demo"]["topic"] for item in items)
        for topic in (
            "question",
            "complaint",
            "praise",
            "spam",
            "insult",
            "threat",
            "hate",
            "contest",
            "competitor",
            "lead",
        ):
            assert topics[topic] >= 1, topic
        assert topics["spam"] >= 20
        assert topics["contest"] >= 15
        reviews = [item for item in items if item.kind == ItemKind.REVIEW and "rating" in item.metrics]
        assert len(reviews) >= 10
        assert {r.metrics["rating"] for r in reviews} >= {1, 2, 3, 4, 5}

    def test_texts_are_written_not_templated(self, brand):
        texts = Counter(Item.objects.filter(organisation=brand).values_list("text", flat=True))
        assert [text for text, n in texts.items() if n > 1] == []

    def test_reply_threads_are_linked_and_answers_follow_what_they_answer(self, brand):
        replies = (
            Item.objects.filter(organisation=brand).exclude(parent_external_id="").select_related("parent")
        )
        assert replies.count() >= 150
        for reply in replies:
            assert reply.parent is not None, reply.external_id
            assert reply.thread_root_id is not None
            assert reply.created_at > reply.parent.created_at, reply.external_id
        brand_handles = set(Channel.objects.filter(organisation=brand).values_list("handle", flat=True))
        answered_then_replied = [
            r
            for r in replies
            if r.parent.author
            and r.parent.author.handle in brand_handles
            and r.author.handle not in brand_handles
        ]
        assert len(answered_then_replied) >= 15

    def test_answers_follow_their_parent_at_any_time_of_day(self):
        """The data files themselves, whatever the hour the demo loads at (no clamping needed)."""
        zone = ZoneInfo("Europe/Paris")
        for hour in (0, 7, 13, 23):
            now = datetime(2025, 6, 1, hour, 5, tzinfo=zone)
            for org_spec in demo_spec()["organisations"]:
                moments = {}
                for spec in demo_items(org_spec):
                    moment = when(spec, now=now, zone=zone)
                    assert moment <= now, spec["id"]
                    assert moment >= now - timedelta(days=31), spec["id"]
                    if spec.get("re"):
                        assert moment > moments[(spec["ch"], spec["re"])], (hour, spec["id"])
                    moments[(spec["ch"], spec["id"])] = moment

    def test_dates_spread_over_the_last_month_with_a_crisis_evening(self, brand):
        items = Item.objects.filter(organisation=brand)
        days = {(NOW - item.created_at).days for item in items}
        assert len(days) >= 25
        assert items.filter(created_at__gte=NOW - timedelta(hours=12)).count() >= 10
        crisis = sorted(item.created_at for item in items if item.raw["demo"]["topic"] == "crisis")
        assert len(crisis) >= 25
        evening = [moment for moment in crisis if moment - crisis[0] <= timedelta(hours=6)]
        assert len(evening) >= 25

    def test_recurring_people_are_one_contact_across_channels(self, brand):
        lea = Contact.objects.get(organisation=brand, handles__handle="lea.martin.deco")
        assert {h.platform for h in lea.handles.all()} == {"instagram", "email", "facebook"}
        assert len({item.channel.platform for item in lea.items.all()}) == 3

    def test_the_second_organisation_is_isolated(self, brand, other):
        agence = _user("agence")
        assert {m.organisation.slug for m in memberships_of(agence)} == {
            "demo",
            "brasserie-du-port",
        }
        seen_from_brand = items_for(Actor.for_user(agence, brand))
        seen_from_other = items_for(Actor.for_user(agence, other))
        assert seen_from_other.count() >= 25
        assert not seen_from_brand.filter(organisation=other).exists()
        assert not seen_from_other.filter(organisation=brand).exists()
        assert not seen_from_brand.filter(text__icontains="cotriade").exists()
        assert not seen_from_other.filter(text__icontains="lampe Nova").exists()
        with pytest.raises(PermissionDenied):
            Actor.for_user(_user("cm"), other)
        assert not Contact.objects.filter(organisation=other, handles__handle="lea.martin.deco").exists()

    def test_past_campaigns_left_what_publishing_through_palabre_leaves(self, brand):
        """Each past campaign's posts: approved, handed to Mastodon or Bluesky at the time of the post
        the channel holds, sent, and carrying that post's id (what ties a campaign to its posts)."""
        campaigns = Campaign.objects.filter(organisation=brand, posts__isnull=False).distinct()
        past = [c for c in campaigns if c.ends_on is not None and c.starts_on < NOW.date()]
        assert [(c.name, c.starts_on, c.ends_on) for c in sorted(past, key=lambda c: c.starts_on)] == [
            ("Journées Lumière", date(2025, 2, 17), date(2025, 2, 20)),
            ("Concours fauteuil Ravello", date(2025, 2, 26), date(2025, 3, 19)),
            ("Sondage lin ou velours", date(2025, 3, 3), date(2025, 3, 7)),
            ("Collection de printemps", date(2025, 3, 8), date(2025, 3, 12)),
        ]
        for campaign in past:
            variants = PostVariant.objects.filter(post__campaign=campaign).select_related("action", "post")
            assert {v.channel.platform for v in variants} == {Platform.MASTODON, Platform.BLUESKY}
            for variant in variants:
                assert variant.post.status == PostStatus.APPROVED
                assert variant.state == VariantState.HANDED_OVER
                assert variant.action.status == ActionStatus.SENT
                item = Item.objects.get(channel=variant.channel, external_id=variant.action.external_id)
                assert (item.kind, item.author.handle) == (ItemKind.POST, variant.channel.handle)
                assert item.text == variant.text
                assert item.created_at == variant.scheduled_at == variant.handed_over_at
                assert campaign.starts_on <= item.created_at.astimezone(ZONE).date() <= campaign.ends_on
        # The campaigns to come are dated too, after today: on the calendar, not yet on the dashboard.
        upcoming = Campaign.objects.filter(organisation=brand, starts_on__gt=NOW.date())
        assert set(upcoming.values_list("name", flat=True)) == {
            "Soldes d'hiver",
            "Portes ouvertes de l'atelier",
            "La couleur de la prochaine lampe",
        }
        assert not PostVariant.objects.filter(post__campaign__in=upcoming, state=VariantState.HANDED_OVER)

    def test_the_dashboard_draws_the_campaigns_and_filters_by_them(self, brand):
        period = default_period(brand, NOW.astimezone(ZONE).date())
        marks = annotations.timeline_marks(brand, period, Filters(), [])
        # The four past campaigns, in the period's 28 days (the contest runs beyond its end).
        assert [(c["name"], c["first"], c["last"]) for c in marks["campaigns"]] == [
            ("Journées Lumière", date(2025, 2, 17), date(2025, 2, 20)),
            ("Concours fauteuil Ravello", date(2025, 2, 26), date(2025, 3, 14)),
            ("Sondage lin ou velours", date(2025, 3, 3), date(2025, 3, 7)),
            ("Collection de printemps", date(2025, 3, 8), date(2025, 3, 12)),
        ]
        by_name = {c["name"]: c["id"] for c in marks["campaigns"]}
        contest = Filters(campaign_id=by_name["Concours fauteuil Ravello"])
        # Its two posts went out on 26 February (Mastodon 12:05, Bluesky 12:10, Paris).
        assert annotations.timeline_marks(brand, period, contest, [])["posts"] == [
            {"day": date(2025, 2, 26), "posts": 2}
        ]
        # maison_lumiere_campaigns.json: under each campaign's two posts, the comments of the
        # community (the brand's own answers are not counted), and the posts' likes and shares.
        expected = {
            "Journées Lumière": (2, 4, 48 + 61, 11 + 14),
            "Concours fauteuil Ravello": (2, 6, 73 + 95, 40 + 52),
            "Sondage lin ou velours": (2, 4, 29 + 44, 8 + 6),
            "Collection de printemps": (2, 3, 57 + 70, 15 + 19),
        }
        for name, (posts, replies, likes, shares) in expected.items():
            quality = metrics.quality(brand, period, Filters(campaign_id=by_name[name]))
            assert (quality["posts"], quality["replies"], quality["likes"], quality["shares"]) == (
                posts,
                replies,
                likes,
                shares,
            ), name

    def test_loading_twice_in_the_same_database_is_refused(self, summary):
        with pytest.raises(DemoError):
            load_demo(now=NOW)


def _fingerprint():
    return sorted(
        Item.objects.values_list(
            "organisation__slug",
            "channel__platform",
            "channel__handle",
            "external_id",
            "kind",
            "text",
            "author__handle",
            "parent__external_id",
            "thread_root__external_id",
            "created_at",
            "url",
        )
    )


def _calendar_fingerprint():
    return sorted(
        PostVariant.objects.values_list(
            "organisation__slug",
            "post__title",
            "post__status",
            "post__campaign__name",
            "post__campaign__starts_on",
            "post__campaign__ends_on",
            "channel__handle",
            "text",
            "state",
            "scheduled_at",
            "action__status",
            "action__external_id",
        ),
        key=repr,
    )


def test_loading_is_deterministic(db):
    with transaction.atomic():
        first = load_demo(now=NOW)
        first_items = _fingerprint()
        first_calendar = _calendar_fingerprint()
        transaction.set_rollback(True)
    assert not Item.objects.exists()
    second = load_demo(now=NOW)
    assert second == first
    assert _fingerprint() == first_items
    assert _calendar_fingerprint() == first_calendar


@pytest.mark.parametrize(
    "moment",
    [
        # Four weeks of listening history across the end of summer time, on a late evening.
        datetime(2026, 11, 22, 22, 40, tzinfo=UTC),
        # Across its start, early in the morning.
        datetime(2026, 4, 10, 4, 5, tzinfo=UTC),
    ],
    ids=["after-summer-time", "after-winter-time"],
)
def test_the_demo_loads_whatever_the_day_and_hour(db, moment):
    summary = load_demo(now=moment)
    assert summary["items"] > 0
