"""The outbox: queued actions are delivered exactly once, retried with backoff, never lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from fake_platform import CountingConnector, FindingConnector, IdempotentConnector

from palabre.connectors import services
from palabre.connectors.base import (
    PermissionMissing,
    RateLimited,
    TokenExpired,
    TransientError,
)
from palabre.connectors.models import ActionStatus, ChannelSync, OutboundAction
from palabre.conversations.models import Item
from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import Role
from palabre.orgs.services import Actor, NotInOrganisation


def _reply(owner_actor, item, text="Bonjour Camille, votre colis part demain.", **kw):
    return services.queue_reply(actor=owner_actor, item=item, text=text, **kw)


def _expire_lease(action):
    # The worker that was sending is gone: its lease ran out.
    OutboundAction.objects.filter(pk=action.pk).update(lease_until=timezone.now() - timedelta(seconds=1))


def _make_due(action):
    OutboundAction.objects.filter(pk=action.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_reply_is_delivered_once_and_shown_in_the_thread(
    counting, owner_actor, forum_item, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        action = _reply(owner_actor, forum_item)
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT
    assert counting.calls == [
        ("reply", "topic-1", "Bonjour Camille, votre colis part demain.", action.idempotency_key)
    ]
    assert action.external_id == "reply-1" and action.url == "https://forum.example/p/1"
    reply = Item.objects.get(channel=forum_item.channel, external_id="reply-1")
    assert reply.parent_id == forum_item.pk and reply.thread_root_id == forum_item.pk
    assert reply.kind == "reply" and reply.author.handle == "forum.maison-dupont.fr"
    assert action.result_item_id == reply.pk
    # Running the task again (a duplicate enqueue) sends nothing.
    assert services.deliver(action.pk).outcome == "skipped:sent"
    assert len(counting.calls) == 1
    actions = set(AuditEvent.objects.filter(target_id=str(action.pk)).values_list("action", flat=True))
    assert {"outbound.reply_queued", "outbound.reply_sent"} <= actions


def test_same_key_returns_the_same_publication(counting, owner_actor, forum):
    first = services.queue_publication(
        actor=owner_actor, channel=forum, text="Nouveau catalogue", idempotency_key="post-42"
    )
    again = services.queue_publication(
        actor=owner_actor, channel=forum, text="Nouveau catalogue", idempotency_key="post-42"
    )
    assert again.pk == first.pk
    assert OutboundAction.objects.filter(idempotency_key="post-42").count() == 1
    services.deliver(first.pk)
    services.deliver(first.pk)
    assert [c[0] for c in counting.calls] == ["publish"]


def test_a_key_used_for_another_channel_is_refused(counting, owner_actor, forum, org, make_channel):
    services.queue_publication(actor=owner_actor, channel=forum, text="Un", idempotency_key="k1")
    other = make_channel(org, "discourse", handle="forum2.maison-dupont.fr")
    with pytest.raises(ValidationError) as error:
        services.queue_publication(actor=owner_actor, channel=other, text="Un", idempotency_key="k1")
    assert "idempotency_key" in error.value.message_dict


def test_not_before_waits(counting, owner_actor, forum):
    later = timezone.now() + timedelta(hours=2)
    action = services.queue_publication(
        actor=owner_actor, channel=forum, text="Soldes", idempotency_key="p-later", not_before=later
    )
    assert services.deliver(action.pk).outcome == "not_due"
    assert counting.calls == []
    assert action.pk not in services.due_action_ids()
    assert action.pk in services.due_action_ids(now=later + timedelta(seconds=1))


def test_transient_error_is_retried_with_growing_backoff(counting, owner_actor, forum_item, monkeypatch):
    monkeypatch.setenv("PALABRE_CONNECTORS_RETRY_BASE_SECONDS", "10")
    counting.script = [TransientError("503"), TransientError("503"), None]
    action = _reply(owner_actor, forum_item)
    delays = []
    for _ in range(2):
        step = services.deliver(action.pk)
        assert step.outcome == "retry"
        delays.append((step.retry_at - timezone.now()).total_seconds())
        action.refresh_from_db()
        assert action.status == ActionStatus.QUEUED and action.last_error == "503"
        _make_due(action)
    assert 7 <= delays[0] <= 12.5 and 15 <= delays[1] <= 24.5
    assert services.deliver(action.pk).outcome == "sent"
    action.refresh_from_db()
    assert action.attempts == 3 and action.last_error == ""
    assert ChannelSync.objects.get(channel=forum_item.channel).consecutive_failures == 0


def test_rate_limited_respects_retry_after(counting, owner_actor, forum_item):
    counting.script = [RateLimited("429", retry_after=900)]
    action = _reply(owner_actor, forum_item)
    step = services.deliver(action.pk)
    assert step.outcome == "retry"
    assert (step.retry_at - timezone.now()).total_seconds() >= 899
    sync = ChannelSync.objects.get(channel=forum_item.channel)
    assert sync.next_call_at >= timezone.now() + timedelta(seconds=899)
    assert sync.consecutive_failures == 0 and sync.last_error_code == "rate_limited"


def test_permanent_errors_fail_visibly_and_can_be_retried_by_hand(counting, owner_actor, forum_item):
    counting.script = [PermissionMissing("write:statuses missing")]
    action = _reply(owner_actor, forum_item)
    assert services.deliver(action.pk).outcome == "failed"
    action.refresh_from_db()
    assert action.status == ActionStatus.FAILED and action.last_error_code == "permission_missing"
    assert ChannelSync.objects.get(channel=forum_item.channel).consecutive_failures == 1
    services.retry_action(actor=owner_actor, action=action)
    assert services.deliver(action.pk).outcome == "sent"
    assert [c[0] for c in counting.calls] == ["reply", "reply"]
    assert AuditEvent.objects.filter(action="outbound.retried", target_id=str(action.pk)).exists()


def test_too_many_attempts_end_failed(counting, owner_actor, forum_item, monkeypatch):
    monkeypatch.setenv("PALABRE_CONNECTORS_MAX_ATTEMPTS", "2")
    counting.script = [TransientError("down"), TransientError("down")]
    action = _reply(owner_actor, forum_item)
    assert services.deliver(action.pk).outcome == "retry"
    _make_due(action)
    assert services.deliver(action.pk).outcome == "failed"


def test_expired_token_fails_and_marks_the_channel(counting, owner_actor, forum_item):
    counting.script = [TokenExpired("401 invalid token")]
    action = _reply(owner_actor, forum_item)
    assert services.deliver(action.pk).outcome == "failed"
    sync = ChannelSync.objects.get(channel=forum_item.channel)
    assert sync.token_expires_at is not None and sync.token_expires_at <= timezone.now()


# --- exactly once after a crash ----------------------------------------------------------------


def test_crash_without_lookup_needs_a_person(counting, owner_actor, forum_item):
    counting.script = ["crash"]
    action = _reply(owner_actor, forum_item)
    with pytest.raises(KeyboardInterrupt):
        services.deliver(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.SENDING
    # Another worker while the lease holds: hands off.
    assert services.deliver(action.pk).outcome == "in_progress"
    _expire_lease(action)
    assert action.pk in services.due_action_ids()
    assert services.deliver(action.pk).outcome == "needs_check"
    assert len(counting.calls) == 1  # never sent a second time
    action.refresh_from_db()
    assert action.status == ActionStatus.NEEDS_CHECK
    # The person checked: it was published.
    services.confirm_delivered(actor=owner_actor, action=action, url="https://forum.example/p/9")
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT


def test_crash_with_lookup_finds_the_delivered_reply(use_connector, owner_actor, forum_item):
    finding = use_connector(FindingConnector)
    finding.script = ["crash"]
    action = _reply(owner_actor, forum_item)
    with pytest.raises(KeyboardInterrupt):
        services.deliver(action.pk)
    _expire_lease(action)
    assert services.deliver(action.pk).outcome == "sent"
    assert [c[0] for c in finding.calls] == ["reply", "find"]
    action.refresh_from_db()
    assert action.external_id == "ext-1"
    assert Item.objects.filter(channel=forum_item.channel, external_id="ext-1", parent=forum_item).exists()


def test_crash_with_lookup_that_finds_nothing_sends_again(use_connector, owner_actor, forum_item):
    finding = use_connector(FindingConnector)
    finding.script = [KeyboardInterrupt("died before the request")]
    action = _reply(owner_actor, forum_item)
    with pytest.raises(KeyboardInterrupt):
        services.deliver(action.pk)
    _expire_lease(action)
    assert services.deliver(action.pk).outcome == "retry"
    _make_due(action)
    assert services.deliver(action.pk).outcome == "sent"
    assert [c[0] for c in finding.calls] == ["reply", "find", "reply"]


def test_crash_on_an_idempotent_platform_sends_again_with_the_same_key(
    use_connector, owner_actor, forum_item
):
    platform = use_connector(IdempotentConnector)
    platform.script = ["crash"]
    action = _reply(owner_actor, forum_item)
    with pytest.raises(KeyboardInterrupt):
        services.deliver(action.pk)
    _expire_lease(action)
    assert services.deliver(action.pk).outcome == "retry"
    _make_due(action)
    assert services.deliver(action.pk).outcome == "sent"
    keys = [c[-1] for c in platform.calls]
    assert keys == [action.idempotency_key, action.idempotency_key]


def test_timeout_that_may_have_delivered_is_not_resent_blindly(counting, owner_actor, forum_item):
    counting.script = [TransientError("read timeout", maybe_delivered=True)]
    action = _reply(owner_actor, forum_item)
    assert services.deliver(action.pk).outcome == "needs_check"
    assert len(counting.calls) == 1


def test_unexpected_exception_is_treated_as_maybe_delivered(counting, owner_actor, forum_item):
    counting.script = [ValueError("library bug")]
    action = _reply(owner_actor, forum_item)
    assert services.deliver(action.pk).outcome == "needs_check"


# --- rate limit -----------------------------------------------------------------------------------


def test_per_channel_rate_limit_spaces_calls(counting, owner_actor, forum, monkeypatch):
    monkeypatch.setenv("PALABRE_CONNECTORS_PLATFORM_INTERVALS", "discourse=30")
    first = services.queue_publication(actor=owner_actor, channel=forum, text="Un", idempotency_key="a")
    second = services.queue_publication(actor=owner_actor, channel=forum, text="Deux", idempotency_key="b")
    assert services.deliver(first.pk).outcome == "sent"
    step = services.deliver(second.pk)
    assert step.outcome == "rate_limited_locally"
    assert 25 <= (step.retry_at - timezone.now()).total_seconds() <= 30
    assert len(counting.calls) == 1
    second.refresh_from_db()
    assert second.status == ActionStatus.QUEUED


def test_min_interval_reads_platform_overrides(monkeypatch):
    monkeypatch.setenv("PALABRE_CONNECTORS_MIN_INTERVAL", "2")
    monkeypatch.setenv("PALABRE_CONNECTORS_PLATFORM_INTERVALS", "mastodon=0.5, bluesky=oops")
    assert services.min_interval("mastodon") == 0.5
    assert services.min_interval("bluesky") == 2.0
    assert services.min_interval("rss") == 2.0


# --- hide, delete, cancel, permissions, isolation -----------------------------------------------


def test_hide_and_delete(counting, owner_actor, forum_item):
    hide = services.queue_hide(actor=owner_actor, item=forum_item)
    assert services.queue_hide(actor=owner_actor, item=forum_item).pk == hide.pk  # asked twice: once
    services.deliver(hide.pk)
    delete = services.queue_delete(actor=owner_actor, item=forum_item)
    services.deliver(delete.pk)
    assert counting.calls == [("hide", "topic-1"), ("delete", "topic-1")]


def test_cancel_a_queued_action(counting, owner_actor, forum_item):
    action = _reply(owner_actor, forum_item)
    services.cancel_action(actor=owner_actor, action=action)
    assert services.deliver(action.pk).outcome == "skipped:cancelled"
    assert counting.calls == []
    action.refresh_from_db()
    with pytest.raises(ValidationError):
        services.confirm_delivered(actor=owner_actor, action=action)


def test_bad_input_names_the_field(counting, owner_actor, forum_item, forum):
    with pytest.raises(ValidationError) as error:
        _reply(owner_actor, forum_item, text="   ")
    assert "text" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.queue_publication(actor=owner_actor, channel=forum, text="x", idempotency_key="")
    assert "idempotency_key" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.queue_publication(
            actor=owner_actor,
            channel=forum,
            text="x",
            idempotency_key="n",
            not_before=timezone.now().replace(tzinfo=None),
        )
    assert "not_before" in error.value.message_dict


def test_channel_without_the_capability_is_refused(owner_actor, org, make_channel, ingest):
    # A feed is only read: its connector declares no reply.
    feed = make_channel(org, "rss", handle="https://example.fr/feed")
    item = ingest(feed, "feed-1")
    with pytest.raises(ValidationError) as error:
        _reply(owner_actor, item)
    assert "channel" in error.value.message_dict


def test_roles(counting, org, forum_item, make_member, actor_for):
    analyst = actor_for(make_member(org, Role.ANALYST).user, org)
    moderator = actor_for(make_member(org, Role.MODERATOR).user, org)
    with pytest.raises(PermissionDenied):
        _reply(analyst, forum_item)
    _reply(moderator, forum_item)
    with pytest.raises(PermissionDenied):
        services.queue_publication(actor=moderator, channel=forum_item.channel, text="x", idempotency_key="m")


def test_another_organisation_cannot_touch_the_outbox(
    counting, owner_actor, forum_item, make_org, owner_of, make_channel
):
    action = _reply(owner_actor, forum_item)
    other = make_org("Concurrent")
    stranger = Actor.for_user(owner_of(other), other)
    with pytest.raises(NotInOrganisation):
        _reply(stranger, forum_item)
    with pytest.raises(NotInOrganisation):
        services.cancel_action(actor=stranger, action=action)
    with pytest.raises(NotInOrganisation):
        services.retry_action(actor=stranger, action=action)
    with pytest.raises(NotInOrganisation):
        services.get_action(actor=stranger, action_id=action.pk)
    with pytest.raises(NotInOrganisation):
        services.queue_publication(actor=stranger, channel=forum_item.channel, text="x", idempotency_key="z")
    assert not services.actions_for(stranger).exists()
    # The same key in two organisations is two actions.
    theirs = make_channel(other, "discourse", handle="forum.concurrent.fr")
    mine = services.queue_publication(
        actor=owner_actor, channel=forum_item.channel, text="x", idempotency_key="same"
    )
    their = services.queue_publication(actor=stranger, channel=theirs, text="x", idempotency_key="same")
    assert mine.pk != their.pk
    assert list(services.actions_for(stranger)) == [their]


def test_counting_connector_is_registered_like_any_other(counting, forum):
    from palabre.connectors.registry import connector_for

    assert isinstance(connector_for(forum), CountingConnector)


def test_a_reply_key_used_for_another_item_is_refused(counting, owner_actor, forum_item, ingest):
    first = _reply(owner_actor, forum_item, idempotency_key="form-123")
    assert _reply(owner_actor, forum_item, idempotency_key="form-123").pk == first.pk
    other = ingest(forum_item.channel, "topic-2")
    with pytest.raises(ValidationError) as error:
        _reply(owner_actor, other, idempotency_key="form-123")
    assert "idempotency_key" in error.value.message_dict
