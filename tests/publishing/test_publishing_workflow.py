"""Drafts, comments, approvals and schedules through the services, with the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from palabre.connectors.models import OutboundAction
from palabre.listening import services as listening_services
from palabre.orgs.models import AuditEvent
from palabre.orgs.services import NotInOrganisation
from palabre.publishing import services
from palabre.publishing.models import PostStatus, VariantState

pytestmark = pytest.mark.clock


def test_contributor_drafts_sees_coaching_fixes_and_a_cm_approves(contributor, cm, forum, x_channel, soon):
    post = services.create_post(
        actor=contributor,
        title="Soldes d'hiver",
        variants=[
            {
                "channel": forum,
                "text": "Soldes : -30 % sur nos canapés ! #IranElection",
                "scheduled_at": soon(),
            },
            {"channel": x_channel, "text": "Soldes : -30 % sur nos canapés !", "scheduled_at": soon()},
        ],
    )
    forum_variant = post.variants.get(channel=forum)
    assert forum_variant.guardrail_verdict == "block"
    assert forum_variant.guardrail_findings[0]["guardrail"] == "sensitive_topic"
    with pytest.raises(ValidationError) as refused:
        services.submit_post(actor=contributor, post=post)
    assert "guardrails" in refused.value.message_dict

    services.update_post(
        actor=contributor,
        post=post,
        variants=[
            {"channel": forum, "text": "Soldes : -30 % sur nos canapés !", "scheduled_at": soon()},
            {"channel": x_channel, "text": "Soldes : -30 % sur nos canapés !", "scheduled_at": soon()},
        ],
    )
    services.add_comment(actor=contributor, post=post, text="Hashtag retiré, merci du conseil.")
    services.submit_post(actor=contributor, post=post)
    post.refresh_from_db()
    assert post.status == PostStatus.PENDING
    with pytest.raises(PermissionDenied):
        services.approve_post(actor=contributor, post=post)
    with pytest.raises(PermissionDenied):
        services.update_post(actor=contributor, post=post, title="Autre titre")

    services.approve_post(actor=cm, post=post)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED and post.decided_by == cm.user
    assert set(post.variants.values_list("state", flat=True)) == {VariantState.SCHEDULED}
    actions = list(
        AuditEvent.objects.filter(organisation=post.organisation, target_id=str(post.pk)).values_list(
            "action", flat=True
        )
    )
    for action in (
        "post.created",
        "post.updated",
        "post.commented",
        "post.submitted",
        "post.approved",
        "post.scheduled",
    ):
        assert action in actions


def test_a_warning_needs_an_explicit_acknowledgement(contributor, cm, forum):
    post = services.create_post(
        actor=contributor,
        title="Shouting",
        variants=[{"channel": forum, "text": "VENEZ NOMBREUX CE SAMEDI MATIN"}],
    )
    services.submit_post(actor=contributor, post=post)
    with pytest.raises(ValidationError) as refused:
        services.approve_post(actor=cm, post=post)
    assert "acknowledge_warnings" in refused.value.message_dict
    services.approve_post(actor=cm, post=post, acknowledge_warnings=True)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED and post.acknowledged[0][1] == "all_caps"


def test_rejection_needs_a_reason_and_goes_back_to_the_author(contributor, cm, forum):
    post = services.create_post(
        actor=contributor, title="Essai", variants=[{"channel": forum, "text": "Bonjour"}]
    )
    services.submit_post(actor=contributor, post=post)
    with pytest.raises(ValidationError) as refused:
        services.reject_post(actor=cm, post=post, reason=" ")
    assert "reason" in refused.value.message_dict
    services.reject_post(actor=cm, post=post, reason="Ajoutez une photo de l'atelier.")
    post.refresh_from_db()
    assert post.status == PostStatus.REJECTED
    assert post.comments.last().text == "Ajoutez une photo de l'atelier."
    services.update_post(actor=contributor, post=post, title="Essai avec photo")  # the author may fix it


def test_channel_limits_are_checked_per_variant(contributor, forum, x_channel):
    long_text = "Notre atelier " + "très " * 60
    post = services.create_post(
        actor=contributor,
        title="Long",
        variants=[{"channel": x_channel, "text": long_text}, {"channel": forum, "text": long_text}],
    )
    x_variant = post.variants.get(channel=x_channel)
    assert [f["guardrail"] for f in x_variant.guardrail_findings] == ["channel_limits"]
    assert "280" in x_variant.guardrail_findings[0]["explanation"]
    assert post.variants.get(channel=forum).guardrail_verdict == "pass"


def test_bad_input_names_the_field(contributor, forum, make_org, make_channel):
    other = make_channel(make_org(), "discourse", handle="elsewhere")
    with pytest.raises(ValidationError) as error:
        services.create_post(actor=contributor, title="", variants=[{"channel": forum, "text": "x"}])
    assert "title" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.create_post(actor=contributor, title="T", variants=[{"channel": other, "text": "x"}])
    assert "channel" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.create_post(actor=contributor, title="T", variants=[])
    assert "variants" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.create_post(
            actor=contributor,
            title="T",
            variants=[{"channel": forum, "text": "x", "media": [{"url": "a.png"}]}],
        )
    assert "variants.0.media" in error.value.message_dict


def test_due_variant_is_handed_to_the_outbox_once(
    publisher, contributor, cm, forum, django_capture_on_commit_callbacks
):
    post = services.create_post(
        actor=cm, title="Atelier", variants=[{"channel": forum, "text": "Visite de l'atelier samedi."}]
    )
    services.approve_post(actor=cm, post=post)
    variant = post.variants.get()
    services.schedule_variant(actor=cm, variant=variant, at=timezone.now() + timedelta(seconds=1))
    later = timezone.now() + timedelta(seconds=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.publish_due(variant.pk, now=later) == "handed_over"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.publish_due(variant.pk, now=later) == "unchanged"  # already: nothing more
    variant.refresh_from_db()
    assert variant.state == VariantState.HANDED_OVER
    assert OutboundAction.objects.filter(idempotency_key=f"post-variant-{variant.pk}").count() == 1
    assert len(publisher.calls) == 1
    assert variant.delivery_status == "sent"


def test_a_guardrail_that_blocks_at_publication_time_stops_it(publisher, cm, forum):
    post = services.create_post(
        actor=cm, title="Lampes", variants=[{"channel": forum, "text": "Promo -20 % sur les lampes"}]
    )
    services.approve_post(actor=cm, post=post)
    variant = post.variants.get()
    services.schedule_variant(actor=cm, variant=variant, at=timezone.now() + timedelta(minutes=5))
    # Meanwhile the organisation marks a topic as sensitive.
    services.update_policy(actor=cm, sensitive_terms=["lampes"])
    assert services.publish_due(variant.pk, now=timezone.now() + timedelta(minutes=6)) == "blocked"
    assert publisher.calls == []


def test_crisis_holds_promotion_lists_it_and_releases_it(publisher, cm, forum, monkeypatch, soon):
    promo = services.create_post(
        actor=cm,
        title="Promo",
        variants=[{"channel": forum, "text": "Soldes : -20 % sur tout", "scheduled_at": soon()}],
    )
    talk = services.create_post(
        actor=cm,
        title="Question",
        variants=[{"channel": forum, "text": "Votre lampe préférée ?", "scheduled_at": soon()}],
    )
    services.approve_post(actor=cm, post=promo)
    services.approve_post(actor=cm, post=talk)
    held = services.hold_for_crisis(cm.organisation)
    assert [v.post_id for v in held] == [promo.pk]
    assert list(services.held_variants(cm)) == held
    assert talk.variants.get().state == VariantState.SCHEDULED
    assert AuditEvent.objects.filter(action="publishing.crisis_hold").exists()

    # In crisis, a newly scheduled promotion is held at once, and a due one is not published.
    monkeypatch.setattr(listening_services, "is_crisis_active", lambda organisation: True)
    other = services.create_post(
        actor=cm,
        title="Promo 2",
        variants=[{"channel": forum, "text": "Code promo LAMPE10", "scheduled_at": soon()}],
    )
    services.approve_post(actor=cm, post=other)
    assert other.variants.get().state == VariantState.HELD
    with pytest.raises(ValidationError):
        services.release_held(actor=cm)

    monkeypatch.setattr(listening_services, "is_crisis_active", lambda organisation: False)
    released = services.release_held(actor=cm)
    assert {v.post_id for v in released} == {promo.pk, other.pk}
    assert {v.state for v in released} == {VariantState.SCHEDULED}


def test_another_organisation_sees_nothing(contributor, cm, forum, make_org, owner_of, actor_for):
    post = services.create_post(
        actor=contributor, title="Secret", variants=[{"channel": forum, "text": "Bientôt"}]
    )
    other_org = make_org()
    stranger = actor_for(owner_of(other_org), other_org)
    assert list(services.posts_for(stranger)) == []
    with pytest.raises(NotInOrganisation):
        services.get_post(actor=stranger, post_id=post.pk)
    with pytest.raises(NotInOrganisation):
        services.get_variant(actor=stranger, variant_id=post.variants.get().pk)
    with pytest.raises(Exception):  # noqa: B017  (not found in the stranger's organisation)
        services.approve_post(actor=stranger, post=post)
    with pytest.raises(NotInOrganisation):
        services.add_comment(actor=stranger, post=post, text="hello")


def test_roles_without_drafting_cannot_read_posts(org, make_member, actor_for):
    analyst = actor_for(make_member(org, "analyst").user, org)
    with pytest.raises(PermissionDenied):
        services.posts_for(analyst)


def test_best_posting_times_come_from_the_brand_s_own_engagement(cm, forum, ingest):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    # Tuesdays 18:00 do well, Mondays 09:00 poorly; a customer's post does not count.
    for week in range(4):
        ingest(
            forum,
            f"t{week}",
            kind="post",
            author=forum.handle,
            text="Nouveauté",
            created_at=datetime(2026, 10, 6 + 7 * week, 18, 5, tzinfo=paris),
            metrics={"likes": 40, "replies": 10},
        )
        ingest(
            forum,
            f"m{week}",
            kind="post",
            author=forum.handle,
            text="Bonjour",
            created_at=datetime(2026, 10, 5 + 7 * week, 9, 0, tzinfo=paris),
            metrics={"likes": 2},
        )
        ingest(
            forum,
            f"c{week}",
            kind="post",
            author="client",
            text="Question",
            created_at=datetime(2026, 10, 7 + 7 * week, 7, 0, tzinfo=paris),
            metrics={"likes": 500},
        )
    best = services.best_posting_times(cm, days=3650)
    assert (best[0]["weekday"], best[0]["hour"], best[0]["posts"]) == (1, 18, 4)
    assert best[0]["engagement"] == 70.0
    assert {(b["weekday"], b["hour"]) for b in best} == {(1, 18), (0, 9)}


def test_listening_crisis_mode_holds_promotion_through_the_hook(
    publisher, cm, forum, soon, django_capture_on_commit_callbacks
):
    from palabre.listening.services import switch_crisis_mode

    promo = services.create_post(
        actor=cm,
        title="Promo",
        variants=[{"channel": forum, "text": "Soldes : -20 % sur tout", "scheduled_at": soon()}],
    )
    services.approve_post(actor=cm, post=promo)
    with django_capture_on_commit_callbacks(execute=True):
        switch_crisis_mode(actor=cm, on=True, reason="Bad buzz sur la lampe Oslo")
    variant = promo.variants.get()
    assert variant.state == VariantState.HELD and variant.held_reason == "crisis"
    # Due during the crisis: still not published.
    assert services.publish_due(variant.pk, now=timezone.now() + timedelta(hours=2)) == "unchanged"
    with django_capture_on_commit_callbacks(execute=True):
        switch_crisis_mode(actor=cm, on=False)
    services.release_held(actor=cm)
    variant.refresh_from_db()
    assert variant.state == VariantState.SCHEDULED
    with django_capture_on_commit_callbacks(execute=True):
        assert services.publish_due(variant.pk, now=timezone.now() + timedelta(hours=2)) == "handed_over"
    assert len(publisher.calls) == 1


def test_the_calendar_and_the_api_list_in_a_fixed_number_of_queries(
    cm, forum, x_channel, client, soon, django_assert_max_num_queries
):
    for n in range(12):
        post = services.create_post(
            actor=cm,
            title=f"Post {n}",
            variants=[
                {"channel": forum, "text": f"Atelier, épisode {n}", "scheduled_at": soon(60 * n)},
                {"channel": x_channel, "text": f"Atelier, épisode {n}", "scheduled_at": soon(60 * n)},
            ],
        )
        services.approve_post(actor=cm, post=post)
    client.force_login(cm.user)
    with django_assert_max_num_queries(25):
        page = client.get(f"/publishing/?view=week&date={soon().date().isoformat()}")
    assert page.status_code == 200 and page.content.decode().count("cal-entry state-scheduled") >= 2
