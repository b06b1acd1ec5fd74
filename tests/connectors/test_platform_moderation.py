"""Moderation sent back to the platform: each channel's policy (hide, delete or nothing on a
rejection; show again or nothing on a restoration), set by an admin where the connector can;
the outbox actions a decision queues, delivered, audited; the item actions a moderator asks."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from fake_platform import CountingConnector

from palabre.connectors import services
from palabre.connectors.base import Capability
from palabre.connectors.models import ActionKind, ActionStatus, OutboundAction
from palabre.moderation import services as moderation
from palabre.moderation.models import ItemModeration, ModerationStatus
from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import Role


class ModeratedForum(CountingConnector):
    """A forum that hides, shows again, deletes and bans."""

    capabilities = frozenset(
        {
            Capability.PULL,
            Capability.REPLY,
            Capability.HIDE,
            Capability.UNHIDE,
            Capability.DELETE,
            Capability.BAN_AUTHOR,
        }
    )

    def unhide(self, channel, item):
        self._next(("unhide", item.external_id))

    def ban_author(self, channel, item):
        self._next(("ban_author", item.external_id))


class HideOnlyForum(CountingConnector):
    capabilities = frozenset({Capability.PULL, Capability.HIDE})


@pytest.fixture
def forum_connector(use_connector):
    return use_connector(ModeratedForum)


@pytest.fixture
def moderator(org, make_member, actor_for):
    return actor_for(make_member(org, Role.MODERATOR).user, org)


@pytest.fixture
def decide(django_capture_on_commit_callbacks):
    """Run a moderation service and what it asks once committed (the outbox's delivery included)."""

    def run(call, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(**kwargs)

    return run


def _actions(item, kind=None):
    rows = OutboundAction.objects.filter(item=item).order_by("created_at", "pk")
    return list(rows.filter(kind=kind) if kind else rows)


def test_nothing_goes_to_the_platform_until_an_admin_sets_the_policy(
    forum_connector, forum, forum_item, moderator, decide
):
    assert services.policy_of(forum) == {"on_reject": "nothing", "on_restore": "nothing"}
    decide(moderation.review_item, actor=moderator, item_id=forum_item.pk, action="reject")
    assert _actions(forum_item) == []
    assert forum_connector.calls == []


def test_a_rejection_hides_the_comment_and_a_restoration_shows_it_again(
    forum_connector, forum, forum_item, owner_actor, moderator, decide
):
    services.update_platform_moderation(
        actor=owner_actor, channel=forum, on_reject="hide", on_restore="unhide"
    )
    decide(moderation.review_item, actor=moderator, item_id=forum_item.pk, action="reject")
    (hide,) = _actions(forum_item)
    assert hide.kind == ActionKind.HIDE and hide.created_by == moderator.user
    assert hide.status == ActionStatus.SENT  # delivered by the task, once committed
    # Rejected again (as spam): hidden already, nothing more is asked.
    decide(moderation.review_item, actor=moderator, item_id=forum_item.pk, action="spam")
    assert len(_actions(forum_item)) == 1

    decide(moderation.review_item, actor=moderator, item_id=forum_item.pk, action="restore")
    unhide = _actions(forum_item, ActionKind.UNHIDE)[0]
    assert unhide.status == ActionStatus.SENT
    assert forum_connector.calls == [("hide", "topic-1"), ("unhide", "topic-1")]
    audited = set(AuditEvent.objects.filter(organisation=forum.organisation).values_list("action", flat=True))
    assert {
        "outbound.hide_queued",
        "outbound.hide_sent",
        "outbound.unhide_queued",
        "outbound.unhide_sent",
    } <= audited


def test_a_restoration_before_the_hide_left_cancels_it(
    forum_connector, forum, forum_item, owner_actor, moderator, django_capture_on_commit_callbacks
):
    services.update_platform_moderation(
        actor=owner_actor, channel=forum, on_reject="hide", on_restore="unhide"
    )
    for action in ("reject", "restore"):
        with django_capture_on_commit_callbacks() as callbacks:
            moderation.review_item(actor=moderator, item_id=forum_item.pk, action=action)
        for callback in callbacks:
            callback()  # the decision sent to the platform; the delivery it enqueues waits
    (hide,) = _actions(forum_item)
    assert hide.status == ActionStatus.CANCELLED
    assert services.deliver(hide.pk).outcome == "skipped:cancelled"
    assert forum_connector.calls == []


def test_undoing_a_rejection_is_a_restoration(
    forum_connector, forum, forum_item, owner_actor, moderator, decide
):
    services.update_platform_moderation(
        actor=owner_actor, channel=forum, on_reject="hide", on_restore="unhide"
    )
    decide(moderation.review_item, actor=moderator, item_id=forum_item.pk, action="reject")
    decide(moderation.undo_review, actor=moderator, item_id=forum_item.pk)
    assert [a.kind for a in _actions(forum_item)] == [ActionKind.HIDE, ActionKind.UNHIDE]


def test_a_deleted_comment_is_not_shown_again(
    forum_connector, forum, forum_item, owner_actor, moderator, decide
):
    services.update_platform_moderation(
        actor=owner_actor, channel=forum, on_reject="delete", on_restore="unhide"
    )
    decide(moderation.review_item, actor=moderator, item_id=forum_item.pk, action="reject")
    (delete,) = _actions(forum_item)
    assert delete.kind == ActionKind.DELETE
    decide(moderation.review_item, actor=moderator, item_id=forum_item.pk, action="restore")
    assert len(_actions(forum_item)) == 1
    assert forum_connector.calls == [("delete", "topic-1")]


def test_an_automatic_rejection_follows_the_policy_too(
    forum_connector, forum, owner_actor, ingest, django_capture_on_commit_callbacks
):
    services.update_platform_moderation(
        actor=owner_actor, channel=forum, on_reject="hide", on_restore="nothing"
    )
    moderation.create_rule(actor=owner_actor, kind="banned_word", pattern="arnaque", enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        item = ingest(forum, "topic-9", text="Cette boutique est une arnaque", author="troll")
    assert ItemModeration.objects.get(item=item).status == ModerationStatus.REJECTED
    (hide,) = _actions(item)
    assert hide.kind == ActionKind.HIDE and hide.created_by is None  # Palabre's own decision


def test_the_policy_offers_only_what_the_connector_declares(use_connector, forum, owner_actor, moderator):
    use_connector(HideOnlyForum)
    assert [key for key, _label in services.policy_choices(forum)["on_restore"]] == ["nothing"]
    with pytest.raises(ValidationError) as refused:
        services.update_platform_moderation(
            actor=owner_actor, channel=forum, on_reject="delete", on_restore="unhide"
        )
    assert set(refused.value.message_dict) == {"on_reject", "on_restore"}
    with pytest.raises(PermissionDenied):
        services.update_platform_moderation(
            actor=moderator, channel=forum, on_reject="hide", on_restore="nothing"
        )
    services.update_platform_moderation(
        actor=owner_actor, channel=forum, on_reject="hide", on_restore="nothing"
    )
    event = AuditEvent.objects.get(action="connectors.platform_moderation_updated")
    assert event.after == {"on_reject": "hide", "on_restore": "nothing"}


def test_the_site_comments_are_left_to_moderation(channel, owner_actor):
    choices = services.policy_choices(channel)
    assert [key for key, _label in choices["on_reject"]] == ["nothing"]
    assert [key for key, _label in choices["on_restore"]] == ["nothing"]


def test_an_admin_sets_the_policy_on_the_channel_page(client, owner, forum_connector, forum, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(owner)
    page = client.get(f"/connectors/channels/{forum.pk}/").content.decode()
    assert 'id="platform-moderation"' in page and 'value="unhide"' in page
    response = client.post(
        f"/connectors/channels/{forum.pk}/moderation/", {"on_reject": "delete", "on_restore": "nothing"}
    )
    assert response.status_code == 302
    forum.refresh_from_db()
    assert services.policy_of(forum) == {"on_reject": "delete", "on_restore": "nothing"}
    assert "Moderation on the platform changed" in client.get("/audit/").content.decode()
    response = client.post(
        f"/connectors/channels/{forum.pk}/moderation/",
        {"on_reject": "shout", "on_restore": "nothing"},
        follow=True,
    )
    assert "When a comment is rejected" in response.content.decode()
    forum.refresh_from_db()
    assert services.policy_of(forum)["on_reject"] == "delete"


def test_a_moderator_asks_an_item_action_where_the_platform_has_it(
    client, org, make_member, forum_connector, forum, forum_item, make_org, make_channel, ingest
):
    client.force_login(make_member(org, Role.MODERATOR).user)
    response = client.post(f"/connectors/items/{forum_item.pk}/ban_author/", {"next": "/inbox/"})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    (ban,) = _actions(forum_item)
    assert ban.kind == ActionKind.BAN_AUTHOR
    services.deliver(ban.pk)
    assert forum_connector.calls == [("ban_author", "topic-1")]
    assert client.post(f"/connectors/items/{forum_item.pk}/shout/").status_code == 404
    other = make_channel(make_org("Autre"), "discourse", handle="autre.forum")
    theirs = ingest(other, "t-1", text="Bonjour", author="x")
    assert client.post(f"/connectors/items/{theirs.pk}/hide/").status_code == 404
    assert _actions(theirs) == []


def test_an_action_the_platform_lacks_is_refused(client, owner, use_connector, forum, forum_item):
    use_connector(HideOnlyForum)
    client.force_login(owner)
    client.post(f"/connectors/items/{forum_item.pk}/ban_author/")
    assert _actions(forum_item) == []
