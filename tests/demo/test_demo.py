"""The demo brand: loaded through the real services, rich enough to show every feature, deterministic."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.db import transaction

from palabre.connectors.connection import connection_of
from palabre.conversations.models import Contact, Item, ItemKind
from palabre.conversations.services import items_for
from palabre.demo.loader import DEMO_PASSWORD, DemoError, demo_items, demo_spec, load_demo, when
from palabre.orgs.models import Channel, Membership, Organisation, Platform
from palabre.orgs.permissions import Role
from palabre.orgs.services import Actor, memberships_of

# A fixed moment, so that the test reads the same whatever the time of day it runs at.
NOW = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)


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


def test_loading_is_deterministic(db):
    with transaction.atomic():
        first = load_demo(now=NOW)
        first_items = _fingerprint()
        transaction.set_rollback(True)
    assert not Item.objects.exists()
    second = load_demo(now=NOW)
    assert second == first
    assert _fingerprint() == first_items


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
