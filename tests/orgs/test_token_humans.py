"""Every API token acts for a person: it leaves with them, and does no more than their current role."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.test import Client

from palabre.orgs.models import ApiToken, AuditEvent
from palabre.orgs.permissions import Perm, Role
from palabre.orgs.services import (
    Actor,
    authenticate_token,
    change_role,
    create_api_token,
    create_channel,
    offboard_member,
    record,
)

pytestmark = pytest.mark.django_db

SCOPES = [
    Perm.ITEMS_VIEW.value,
    Perm.CHANNELS_VIEW.value,
    Perm.CHANNELS_MANAGE.value,
    Perm.TOKENS_MANAGE.value,
]


@pytest.fixture
def julie(org, make_member):
    return make_member(org, Role.ADMIN, username="julie")


def _token_actor(raw: str) -> Actor:
    return Actor.for_token(authenticate_token(raw))


def test_a_token_made_by_a_token_acts_for_the_same_person(org, julie, actor_for):
    parent, parent_raw = create_api_token(actor=actor_for(julie.user, org), name="script", scopes=SCOPES)
    child, child_raw = create_api_token(actor=_token_actor(parent_raw), name="child", scopes=SCOPES)
    grandchild, _raw = create_api_token(
        actor=_token_actor(child_raw), name="grandchild", scopes=["items.view"]
    )
    assert parent.on_behalf_of == julie.user
    assert child.created_by is None and child.on_behalf_of == julie.user
    assert grandchild.on_behalf_of == julie.user


def test_the_token_list_names_the_person_behind_each_token(org, julie, actor_for, owner, client):
    _parent, parent_raw = create_api_token(actor=actor_for(julie.user, org), name="script", scopes=SCOPES)
    create_api_token(actor=_token_actor(parent_raw), name="child", scopes=["items.view"])
    create_api_token(actor=Actor.palabre(org), name="set-up", scopes=["items.view"])
    client.force_login(owner)
    listed = {t["name"]: t["acts_for"] for t in client.get("/api/tokens").json()}
    assert listed == {"script": "julie", "child": "julie", "set-up": None}
    page = client.get("/tokens/").content.decode()
    assert page.count('<div class="muted">julie</div>') == 2


def test_tokens_made_by_tokens_leave_with_their_person(org, julie, actor_for, owner_actor):
    _parent, parent_raw = create_api_token(actor=actor_for(julie.user, org), name="script", scopes=SCOPES)
    child, child_raw = create_api_token(actor=_token_actor(parent_raw), name="child", scopes=["items.view"])

    report = offboard_member(actor=owner_actor, membership=julie)

    assert report["api_tokens_revoked"] == 2
    child.refresh_from_db()
    assert child.revoked_at is not None
    assert authenticate_token(child_raw) is None
    assert [t["name"] for t in report["api_tokens"]] == ["child", "script"]


def test_a_token_does_no_more_than_its_persons_current_role(org, julie, actor_for, owner_actor):
    token, raw = create_api_token(actor=actor_for(julie.user, org), name="script", scopes=SCOPES)
    assert _token_actor(raw).can(Perm.CHANNELS_MANAGE)

    change_role(actor=owner_actor, membership=julie, role=Role.ANALYST)

    actor = _token_actor(raw)
    assert actor.permissions == {Perm.ITEMS_VIEW.value, Perm.CHANNELS_VIEW.value}
    with pytest.raises(PermissionDenied):
        create_channel(actor=actor, platform="rss", handle="https://a.fr/rss", name="A")
    with pytest.raises(PermissionDenied):
        create_api_token(actor=actor, name="escape", scopes=["items.view"])
    # Read the token alone (not through authenticate_token): the same cap.
    assert Actor.for_token(ApiToken.objects.get(pk=token.pk)).permissions == actor.permissions

    change_role(actor=owner_actor, membership=julie, role=Role.ADMIN)
    assert _token_actor(raw).can(Perm.CHANNELS_MANAGE)


def test_the_api_caps_a_demoted_persons_token(org, julie, actor_for, owner_actor):
    _token, raw = create_api_token(actor=actor_for(julie.user, org), name="script", scopes=SCOPES)
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    new_channel = {"platform": "rss", "handle": "https://a.fr/rss", "name": "A"}
    assert api.post("/api/channels", new_channel, "application/json").status_code == 201
    change_role(actor=owner_actor, membership=julie, role=Role.MODERATOR)
    refused = api.post("/api/channels", {**new_channel, "handle": "https://b.fr/rss"}, "application/json")
    assert refused.status_code == 403
    assert sorted(api.get("/api/organisation").json()["permissions"]) == ["channels.view", "items.view"]


def test_a_token_stops_the_moment_its_person_is_no_member(org, julie, actor_for):
    token, raw = create_api_token(actor=actor_for(julie.user, org), name="script", scopes=SCOPES)
    # Even without offboarding's revocation (a membership ended by other means).
    julie.removed_at = julie.created_at
    julie.save(update_fields=["removed_at"])
    assert authenticate_token(raw) is None
    with pytest.raises(PermissionDenied):
        Actor.for_token(token)


def test_palabres_own_tokens_keep_their_scopes(org):
    token, raw = create_api_token(actor=Actor.palabre(org), name="set-up", scopes=SCOPES)
    assert token.on_behalf_of is None
    assert _token_actor(raw).permissions == set(SCOPES)


def test_the_migration_finds_the_person_behind_existing_tokens(org, julie, actor_for):
    parent, parent_raw = create_api_token(actor=actor_for(julie.user, org), name="script", scopes=SCOPES)
    child, _raw = create_api_token(actor=_token_actor(parent_raw), name="child", scopes=["items.view"])
    create_api_token(actor=Actor.palabre(org), name="set-up", scopes=SCOPES)
    # As they were before the person was recorded: the child's maker is known only to the audit log.
    ApiToken.objects.update(on_behalf_of=None)
    assert AuditEvent.objects.filter(action="token.created", actor_token=parent).exists()
    record(Actor.palabre(org), "token.created", None)  # unrelated entries are ignored

    migration = importlib.import_module("palabre.orgs.migrations.0002_invitations_and_token_humans")
    migration.record_the_human_behind_each_token(apps, None)

    humans = dict(ApiToken.objects.values_list("name", "on_behalf_of"))
    assert humans == {"script": julie.user.pk, "child": julie.user.pk, "set-up": None}
