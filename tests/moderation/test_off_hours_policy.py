"""The out-of-hours policy: stricter hold thresholds (and optionally first messages held) while the
inbox's business hours say nobody is there, on ingestion, in the Akismet-compatible API and in the
comment form; nothing changes when it is off or when no business hours exist."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone, translation

from palabre.compat.akismet.check import check_comment
from palabre.compat.widget import comments as widget
from palabre.hooks import hookimpl, plugged
from palabre.inbox import services as inbox
from palabre.inbox.models import InboxSettings
from palabre.moderation import engine, services
from palabre.moderation.models import ItemModeration, ModerationPolicy, ModerationStatus
from palabre.moderation.templatetags.moderation_tags import reason_text
from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, create_api_token

pytestmark = pytest.mark.clock

# Spam score about 0.5: under the usual hold threshold (0.6), over the night one (0.6 - 0.15).
BORDERLINE = "Profitez des soldes maintenant"  # spam about 0.47: held only when tightened
HARMLESS = "Bonjour, le canapé Oslo existe-t-il en vert ?"
OFFICE_WEEK = {str(day): [["09:00", "18:00"]] for day in range(5)}
ALWAYS_OPEN = {str(day): [["00:00", "24:00"]] for day in range(7)}
DAY = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)  # a Monday, 11:30 in Paris
NIGHT = datetime(2024, 5, 6, 23, 30, tzinfo=UTC)  # 01:30 on Tuesday in Paris


def set_hours(organisation, weekly=OFFICE_WEEK, holidays=()):
    return inbox.update_settings(
        actor=Actor.palabre(organisation),
        time_zone="Europe/Paris",
        weekly_hours=weekly,
        holidays=list(holidays),
        first_response_minutes=120,
        on_call_id=None,
        auto_assign=False,
        acknowledgements={},
    )


def closed_around_today():
    """Holidays from yesterday to tomorrow in Paris: out of hours whenever the test runs."""
    today = timezone.now().astimezone(ZoneInfo("Europe/Paris")).date()
    return [str(today + timedelta(days=shift)) for shift in (-1, 0, 1)]


def enable(organisation, **changes):
    return services.update_policy(actor=Actor.palabre(organisation), off_hours_enabled=True, **changes)


@pytest.fixture
def moderated(ingest, django_capture_on_commit_callbacks):
    """Ingest like a connector (the analysis runs on commit) and return the item's moderation state."""

    def run(channel, text=BORDERLINE, *, at, author="camille"):
        with django_capture_on_commit_callbacks(execute=True):
            item = ingest(channel, text=text, created_at=at, author=author)
        return ItemModeration.objects.select_related("last_decision").get(item=item)

    return run


def codes(state):
    return [reason["code"] for reason in state.last_decision.reasons]


# --- on ingestion ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_borderline_message_published_by_day_is_held_at_night(org, channel, moderated):
    set_hours(org)
    enable(org)
    day = moderated(channel, at=DAY, author="camille")
    assert day.status == ModerationStatus.PUBLISHED
    assert 0.45 <= day.last_decision.scores["spam"] < 0.6
    night = moderated(channel, at=NIGHT, author="lucie")
    assert night.status == ModerationStatus.HELD
    reason = next(r for r in night.last_decision.reasons if r["code"] == "off_hours")
    assert reason["action"] == "hold"
    assert reason["params"] == {"labels": ["spam"], "tightening": 0.15}
    assert "score_spam" in codes(night)
    # A holiday is out of hours too, at any time of the day.
    set_hours(org, holidays=["2024-05-08"])
    holiday = moderated(channel, at=DAY + timedelta(days=2), author="jules")
    assert holiday.status == ModerationStatus.HELD and "off_hours" in codes(holiday)


@pytest.mark.django_db
def test_nothing_changes_when_the_policy_is_off(org, channel, moderated):
    set_hours(org)
    night = moderated(channel, at=NIGHT)
    assert night.status == ModerationStatus.PUBLISHED
    assert "off_hours" not in codes(night)


@pytest.mark.django_db
def test_nothing_changes_without_business_hours(org, channel, ingest):
    enable(org)
    # Ingested without running the analysis: the inbox never created this organisation's settings.
    item = ingest(channel, text=BORDERLINE, created_at=NIGHT)
    decision = services.moderate_item(item)
    assert decision.status_after == ModerationStatus.PUBLISHED
    assert not InboxSettings.objects.filter(organisation=org).exists(), "asking writes nothing"


@pytest.mark.django_db
def test_nothing_changes_without_a_provider(org, channel, moderated):
    set_hours(org)
    enable(org)

    class NoHours:
        @hookimpl(tryfirst=True)
        def is_off_hours(self, organisation_id, moment):
            return False  # answers before the inbox, as if no app told business hours

    with plugged(NoHours()):
        assert moderated(channel, at=NIGHT).status == ModerationStatus.PUBLISHED


@pytest.mark.django_db
def test_a_failing_provider_leaves_the_usual_thresholds(org, channel, moderated):
    enable(org)

    class Broken:
        @hookimpl(tryfirst=True)
        def is_off_hours(self, organisation_id, moment):
            raise RuntimeError("calendar unavailable")

    with plugged(Broken()):
        assert moderated(channel, at=NIGHT).status == ModerationStatus.PUBLISHED


@pytest.mark.django_db
def test_another_organisations_hours_never_apply(org, channel, make_org, make_channel, moderated):
    other = make_org("Autre Marque")
    other_channel = make_channel(other, "site", handle="autre.example")
    set_hours(org)  # closed at night
    set_hours(other, weekly=ALWAYS_OPEN)  # never closed
    enable(org)
    enable(other)
    assert moderated(other_channel, at=NIGHT).status == ModerationStatus.PUBLISHED
    assert moderated(channel, at=NIGHT, author="lucie").status == ModerationStatus.HELD
    # An organisation with the policy on and no hours at all is not ruled by anyone else's.
    third = make_org("Troisième Marque")
    enable(third)
    assert not inbox.is_out_of_hours(third.pk, NIGHT)
    assert inbox.is_out_of_hours(org.pk, NIGHT) and not inbox.is_out_of_hours(other.pk, NIGHT)


@pytest.mark.django_db
def test_first_messages_of_new_authors_wait_for_a_person_at_night(org, channel, moderated, owner_actor):
    set_hours(org)
    enable(org, off_hours_hold_first_messages=True)
    assert moderated(channel, HARMLESS, at=DAY, author="nouvelle").status == ModerationStatus.PUBLISHED
    night = moderated(channel, HARMLESS, at=NIGHT, author="inconnue")
    assert night.status == ModerationStatus.HELD
    assert codes(night) == ["off_hours_first_message"]
    services.review_item(actor=owner_actor, item_id=night.item_id, action="approve")
    # Once a moderator approved one of their messages, the author is known.
    later = moderated(channel, HARMLESS + " Merci", at=NIGHT + timedelta(hours=1), author="inconnue")
    assert later.status == ModerationStatus.PUBLISHED


@pytest.mark.django_db
def test_check_text_decides_as_of_the_moment_given(org, owner_actor):
    set_hours(org)
    enable(org)
    assert services.check_text(actor=owner_actor, text=BORDERLINE, at=DAY).action == engine.PUBLISH
    night = services.check_text(actor=owner_actor, text=BORDERLINE, at=NIGHT)
    assert night.action == engine.HOLD and "off_hours" in [r.code for r in night.reasons]


@pytest.mark.django_db
def test_a_business_hours_change_applies_at_once_in_this_process(org, owner_actor):
    set_hours(org)
    enable(org)
    assert services.check_text(actor=owner_actor, text=BORDERLINE, at=NIGHT).action == engine.HOLD
    set_hours(org, weekly=ALWAYS_OPEN)
    assert services.check_text(actor=owner_actor, text=BORDERLINE, at=NIGHT).action == engine.PUBLISH


# --- the engine -----------------------------------------------------------------------------------


def test_the_night_lowers_hold_thresholds_only_and_never_below_the_floor():
    strict = engine.OffHours(tightening=0.5)
    low = engine.Thresholds(hold={**engine.DEFAULT_HOLD, "spam": 0.3})
    # Spam score about 0.1: 0.3 - 0.5 stops at MIN_HOLD (0.05), so it is held.
    text = "Bonjour, je vends une table en chêne, contactez-moi"
    day = engine.moderate(text, engine.ModerationContext(thresholds=low))
    night = engine.moderate(text, engine.ModerationContext(thresholds=low, off_hours=strict))
    assert engine.MIN_HOLD < day.scores["spam"] < 0.3
    assert (day.action, night.action) == (engine.PUBLISH, engine.HOLD)
    # Between hold and reject by day: held, never rejected at night (reject thresholds do not move).
    over = "Profitez vite de la livraison gratuite"  # spam about 0.65
    tight_reject = engine.Thresholds(reject={**engine.DEFAULT_REJECT, "spam": 0.8})
    at_night = engine.moderate(over, engine.ModerationContext(thresholds=tight_reject, off_hours=strict))
    assert 0.6 <= at_night.scores["spam"] < 0.8
    assert at_night.action == engine.HOLD
    explained = [r.params["labels"] for r in at_night.reasons if r.code == "off_hours"]
    assert all("spam" not in labels for labels in explained), "held by day already: nothing to explain"


def test_no_tightening_changes_nothing():
    context = engine.ModerationContext(off_hours=engine.OffHours(tightening=0.0))
    decision = engine.moderate(BORDERLINE, context)
    assert decision.action == engine.PUBLISH and decision.reasons == []


def test_the_reasons_read_in_french_and_english():
    reason = {
        "code": "off_hours",
        "action": "hold",
        "message": "…",
        "params": {"labels": ["spam", "insult"], "tightening": 0.15},
    }
    first = {"code": "off_hours_first_message", "action": "hold", "message": "…", "params": {}}
    with translation.override("fr"):
        assert reason_text(reason) == (
            "Hors des heures ouvrées\u202f: retenu par des seuils de rétention abaissés de 0,15 (Spam, Insulte)."
        )
        assert reason_text(first) == (
            "Hors des heures ouvrées\u202f: le premier message de cet auteur attend une personne."
        )
    with translation.override("en"):
        assert reason_text(reason) == (
            "Outside business hours: held under hold thresholds lowered by 0.15 (Spam, Insult)."
        )


# --- compatible APIs ------------------------------------------------------------------------------


def _akismet_params(site, text=BORDERLINE, author="Camille"):
    return {
        "blog": site.url,
        "user_ip": "203.0.113.7",
        "comment_type": "comment",
        "comment_author": author,
        "comment_author_email": f"{author.lower()}@example.org",
        "comment_content": text,
    }


@pytest.mark.django_db
def test_akismet_comment_check_answers_the_stricter_decision_out_of_hours(org, owner_actor):
    site, _key = services.create_moderation_site(actor=owner_actor, name="Blog", url="https://blog.example/")
    enable(org)
    set_hours(org, weekly=ALWAYS_OPEN)
    assert check_comment(site, _akismet_params(site, author="Camille")).spam is False
    set_hours(org, holidays=closed_around_today())
    verdict = check_comment(site, _akismet_params(site, author="Lucie"))
    assert verdict.spam is True and verdict.discard is False
    stored = ItemModeration.objects.select_related("last_decision").get(
        item__external_id=f"akismet-{verdict.guid}"
    )
    assert stored.status == ModerationStatus.HELD and "off_hours" in codes(stored)


@pytest.mark.django_db(transaction=True)
def test_akismet_over_http_answers_true_out_of_hours(live_server, make_org):
    organisation = make_org("Maison Nuit")
    boss = Actor.palabre(organisation)
    site, key = services.create_moderation_site(actor=boss, name="Blog", url="https://nuit.example/")
    set_hours(organisation, holidays=closed_around_today())
    with httpx.Client(base_url=live_server.url, timeout=30) as client:

        def check(author):
            data = {"api_key": key, **_akismet_params(site, author=author)}
            return client.post("/1.1/comment-check", data=data).text

        assert check("Camille") == "false", "policy off: the usual decision"
        enable(organisation)
        assert check("Lucie") == "true"


@pytest.mark.django_db
def test_the_comment_form_holds_a_borderline_comment_out_of_hours(org, owner_actor):
    site, _key = services.create_moderation_site(actor=owner_actor, name="Blog", url="https://blog.example/")
    enable(org)

    def submit(name):
        return widget.submit_comment(
            site=site,
            name=name,
            email=f"{name.lower()}@example.org",
            text=BORDERLINE,
            page="https://blog.example/billet",
            seconds_to_submit=30,
        )

    set_hours(org, weekly=ALWAYS_OPEN)
    assert submit("Camille").status == widget.PUBLISHED
    set_hours(org, holidays=closed_around_today())
    assert submit("Lucie").status == widget.HELD


# --- the policy page and the API ------------------------------------------------------------------


def _policy_form(**changes):
    data = {"max_links": 2, "first_time_hold_until": 0, "rate_limit_per_hour": 0}
    for label in engine.DEFAULT_HOLD:
        data[f"hold_{label}"] = engine.DEFAULT_HOLD[label]
        data[f"reject_{label}"] = engine.DEFAULT_REJECT[label]
    return {**data, **changes}


@pytest.mark.django_db
def test_the_policy_page_saves_the_night_policy(org, owner, client):
    client.force_login(owner)
    page = client.get(reverse("moderation:policy")).content.decode()
    assert "Hors des heures ouvrées" in page
    assert f'href="{reverse("inbox:settings")}"' in page
    data = _policy_form(
        off_hours_enabled="on", off_hours_tightening="0.2", off_hours_hold_first_messages="on"
    )
    response = client.post(reverse("moderation:policy"), data)
    assert response.status_code == 302
    policy = ModerationPolicy.objects.get(organisation=org)
    assert (policy.off_hours_enabled, policy.off_hours_tightening, policy.off_hours_hold_first_messages) == (
        True,
        0.2,
        True,
    )
    event = AuditEvent.objects.filter(organisation=org, action="moderation.policy_updated").latest("pk")
    assert event.after["off_hours_enabled"] is True and event.after["off_hours_tightening"] == 0.2
    # Unticked boxes turn it off again.
    client.post(reverse("moderation:policy"), _policy_form(off_hours_tightening="0.2"))
    policy.refresh_from_db()
    assert not policy.off_hours_enabled and not policy.off_hours_hold_first_messages


@pytest.mark.django_db
def test_the_policy_page_refuses_too_much_tightening_and_keeps_the_input(org, owner, client):
    client.force_login(owner)
    data = _policy_form(off_hours_enabled="on", off_hours_tightening="0.8", max_links="5")
    response = client.post(reverse("moderation:policy"), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert "inférieure ou égale à 0.5" in content or "inférieure ou égale à 0,5" in content
    assert 'value="0.8"' in content and 'value="5"' in content
    assert re.search(r'<input type="checkbox" name="off_hours_enabled"[^>]* checked', content)
    policy = ModerationPolicy.objects.get(organisation=org)
    assert not policy.off_hours_enabled and policy.max_links == 2


@pytest.mark.django_db
def test_update_policy_names_the_bad_field(org, owner_actor):
    from django.core.exceptions import ValidationError

    for bad in (-0.1, 0.51, "beaucoup", float("nan")):
        with pytest.raises(ValidationError) as error:
            services.update_policy(actor=owner_actor, off_hours_tightening=bad)
        assert "off_hours_tightening" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.update_policy(actor=owner_actor, off_hours_enabled="yes")
    assert "off_hours_enabled" in error.value.message_dict
    assert not ModerationPolicy.objects.filter(organisation=org, off_hours_enabled=True).exists()


@pytest.mark.django_db(transaction=True)
def test_the_policy_api_reads_and_writes_the_night_policy(live_server, make_org):
    organisation = make_org("Maison API")
    other = make_org("Autre API")
    boss = Actor.palabre(organisation)
    _token, plain = create_api_token(
        actor=boss, name="ops", scopes=[Perm.MODERATION_ACT.value, Perm.MODERATION_RULES.value]
    )
    headers = {"Authorization": f"Bearer {plain}"}
    with httpx.Client(base_url=live_server.url + "/api", headers=headers, timeout=30) as client:
        body = client.get("/moderation/policy").json()
        assert (body["off_hours_enabled"], body["off_hours_tightening"]) == (False, 0.15)
        bad = client.patch("/moderation/policy", json={"off_hours_tightening": 0.9})
        assert bad.status_code == 422 and "off_hours_tightening" in bad.json()["fields"]
        good = client.patch(
            "/moderation/policy",
            json={
                "off_hours_enabled": True,
                "off_hours_tightening": 0.25,
                "off_hours_hold_first_messages": True,
            },
        )
        assert good.status_code == 200
        assert good.json()["off_hours_enabled"] is True and good.json()["off_hours_tightening"] == 0.25
    assert ModerationPolicy.objects.get(organisation=organisation).off_hours_tightening == 0.25
    assert not ModerationPolicy.objects.filter(organisation=other, off_hours_enabled=True).exists()


@pytest.mark.django_db
def test_the_calendar_is_read_once_for_many_synchronous_checks(org, django_assert_num_queries):
    set_hours(org)
    with django_assert_num_queries(1):
        assert inbox.is_out_of_hours(org.pk, NIGHT)
    with django_assert_num_queries(0):
        assert inbox.is_out_of_hours(org.pk, NIGHT) and not inbox.is_out_of_hours(org.pk, DAY)
    # Off, the policy asks nothing of the calendar.
    policy = services.policy_for(org)
    inbox.forget_cached_hours(org.pk)
    with django_assert_num_queries(0):
        assert services.off_hours_policy(policy, NIGHT) is None
