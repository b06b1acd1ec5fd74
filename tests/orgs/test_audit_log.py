"""Every change made through a service leaves one audit entry; entries are never changed nor deleted."""

from __future__ import annotations

import pytest
from django.utils import translation

from palabre.conversations.services import merge_contacts
from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import Perm, Role
from palabre.orgs.services import (
    Actor,
    approve_spokesperson_channel,
    change_role,
    create_api_token,
    create_channel,
    invite_member,
    offboard_member,
    record,
    revoke_api_token,
    revoke_invitation,
    set_channel_credentials,
    update_channel,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(org, owner_actor, make_member, make_channel, ingest):
    cm = make_member(org, Role.COMMUNITY_MANAGER, username="marc")
    channel = make_channel(org, "site", handle="blog.example.fr", name="Blog")
    return {
        "cm": cm,
        "channel": channel,
        "personal": make_channel(org, "x", handle="@marc", name="Marc", spokesperson=cm.user),
        "token": create_api_token(actor=owner_actor, name="old", scopes=[Perm.ITEMS_VIEW.value])[0],
        "invitation": invite_member(
            actor=owner_actor, email="ines@example.com", role=Role.MODERATOR, site_url="http://x"
        ).invitation,
        "contacts": (ingest(channel, "1", author="ana").contact, ingest(channel, "2", author="ana2").contact),
    }


# (service call, action, target label, before, after); None means "not checked here".
CHANGES = {
    "invite member": (
        lambda a, s: invite_member(actor=a, email="zoe@example.com", role=Role.ANALYST, site_url="http://x"),
        "invitation.created",
        "zoe@example.com",
        None,
        None,
    ),
    "withdraw invitation": (
        lambda a, s: revoke_invitation(actor=a, invitation=s["invitation"]),
        "invitation.revoked",
        "ines@example.com",
        {"status": "pending"},
        {"status": "revoked"},
    ),
    "change role": (
        lambda a, s: change_role(actor=a, membership=s["cm"], role=Role.MODERATOR),
        "member.role_changed",
        "marc",
        {"role": "community_manager"},
        {"role": "moderator"},
    ),
    "remove member": (
        lambda a, s: offboard_member(actor=a, membership=s["cm"]),
        "member.removed",
        "marc",
        {"role": "community_manager"},
        None,
    ),
    "create channel": (
        lambda a, s: create_channel(actor=a, platform="rss", handle="https://ex.fr/feed", name="Feed"),
        "channel.created",
        "Feed (RSS/Atom feed)",
        None,
        {
            "platform": "rss",
            "handle": "https://ex.fr/feed",
            "name": "Feed",
            "status": "active",
            "kind": "brand",
            "credentials": False,
        },
    ),
    "update channel": (
        lambda a, s: update_channel(actor=a, channel=s["channel"], name="Le blog"),
        "channel.updated",
        "Le blog (Site comments)",
        {
            "platform": "site",
            "handle": "blog.example.fr",
            "name": "Blog",
            "status": "active",
            "kind": "brand",
        },
        {
            "platform": "site",
            "handle": "blog.example.fr",
            "name": "Le blog",
            "status": "active",
            "kind": "brand",
        },
    ),
    "replace credentials": (
        # An X app's fields, before its OAuth connection (no call to X is tried).
        lambda a, s: set_channel_credentials(
            actor=a,
            channel=s["personal"],
            credentials={"tier": "basic", "client_id": "k", "client_secret": "v"},
        ),
        "channel.credentials_replaced",
        None,
        {"credentials": False},
        {"credentials": True, "fields": ["client_id", "client_secret", "tier"]},
    ),
    "approve spokesperson": (
        lambda a, s: approve_spokesperson_channel(actor=a, channel=s["personal"]),
        "channel.spokesperson_approved",
        None,
        {"status": "awaiting_approval"},
        {"status": "active", "spokesperson": "marc"},
    ),
    "create token": (
        lambda a, s: create_api_token(actor=a, name="zap", scopes=[Perm.ITEMS_VIEW.value]),
        "token.created",
        None,
        None,
        {"scopes": ["items.view"], "name": "zap"},
    ),
    "revoke token": (
        lambda a, s: revoke_api_token(actor=a, token=s["token"]),
        "token.revoked",
        None,
        {"revoked": False},
        {"revoked": True},
    ),
    "merge contacts": (
        lambda a, s: merge_contacts(actor=a, target=s["contacts"][0], sources=[s["contacts"][1]]),
        "contact.merged",
        "Ana",
        {"handles": ["ana2"]},
        {"merged": ["Ana2"], "into": "Ana"},
    ),
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_each_change_writes_one_entry(org, owner, owner_actor, scene, change):
    call, action, label, before, after = CHANGES[change]
    existing = set(AuditEvent.objects.values_list("pk", flat=True))

    with translation.override("en"):  # labels are written in the acting person's language
        call(owner_actor, scene)

    new = list(AuditEvent.objects.exclude(pk__in=existing))
    assert len(new) == 1, [e.action for e in new]
    event = new[0]
    assert event.organisation == org
    assert event.actor == owner
    assert event.actor_label == owner.username
    assert event.action == action
    assert event.target_type and event.target_id
    if label is not None:
        assert event.target_label == label
    if before is not None:
        assert event.before == before
    if after is not None:
        assert event.after == after


def test_creating_an_organisation_records_it_and_its_owner(make_user, make_org):
    founder = make_user("founder")
    organisation = make_org("Les Biscuits Lu", owner=founder)
    events = list(AuditEvent.objects.filter(organisation=organisation).order_by("id"))
    assert [(e.action, e.actor, e.target_label) for e in events] == [
        ("organisation.created", founder, "Les Biscuits Lu"),
        ("member.added", founder, "founder"),
    ]
    assert events[0].after == {"name": "Les Biscuits Lu", "slug": "les-biscuits-lu"}


def test_a_tokens_changes_name_the_token(org, owner_actor):
    token, _raw = create_api_token(actor=owner_actor, name="ci", scopes=[Perm.CHANNELS_MANAGE.value])
    create_channel(actor=Actor.for_token(token), platform="rss", handle="https://a.fr/rss", name="A")
    event = AuditEvent.objects.get(action="channel.created")
    assert event.actor is None
    assert event.actor_token == token
    assert event.actor_label == "token:ci"


def test_refused_changes_write_nothing(org, make_member, actor_for, scene):
    from django.core.exceptions import PermissionDenied

    analyst = actor_for(make_member(org, Role.ANALYST).user, org)
    count = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        update_channel(actor=analyst, channel=scene["channel"], name="x")
    assert AuditEvent.objects.count() == count


def test_entries_cannot_be_changed_nor_deleted(org, owner_actor):
    event = record(owner_actor, "test.something", org, before={"a": 1}, after={"a": 2})
    event.action = "test.rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="test.rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.before, stored.after) == ("test.something", {"a": 1}, {"a": 2})


def test_the_record_outlives_the_person(org, owner_actor, make_member):
    leaver = make_member(org, Role.MODERATOR, username="temp")
    event = record(Actor.for_user(leaver.user, org), "test.done", org)
    leaver.user.delete()
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor is None
    assert stored.actor_label == "temp"
