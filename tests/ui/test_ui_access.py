"""Every page answers its roles (200), refuses the others (403), and hides another organisation (404).

The expectations come from the permission matrix itself, so the UI cannot drift from it.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from palabre.orgs.permissions import Perm, Role, role_has

# (url name, the permission it needs or None for any member, how to build its arguments)
PAGES = [
    ("home", None, lambda w: []),
    ("permissions", None, lambda w: []),
    ("channels", Perm.CHANNELS_VIEW, lambda w: []),
    # Without channels.manage, a member who drafts posts connects only their own account there.
    ("channel_create", Perm.POSTS_DRAFT, lambda w: []),
    ("channel_edit", Perm.CHANNELS_MANAGE, lambda w: [w.channel.pk]),
    ("channel_credentials", Perm.CHANNELS_MANAGE, lambda w: [w.channel.pk]),
    ("members", Perm.MEMBERS_VIEW, lambda w: []),
    ("member_invite", Perm.MEMBERS_MANAGE, lambda w: []),
    ("member_remove", Perm.MEMBERS_MANAGE, lambda w: [w.memberships[Role.CONTRIBUTOR].pk]),
    ("audit", Perm.AUDIT_VIEW, lambda w: []),
    ("tokens", Perm.TOKENS_MANAGE, lambda w: []),
    ("token_create", Perm.TOKENS_MANAGE, lambda w: []),
    ("conversations:items", Perm.ITEMS_VIEW, lambda w: []),
    ("conversations:item", Perm.ITEMS_VIEW, lambda w: [w.items[0].pk]),
]


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize(("name", "perm", "args"), PAGES, ids=[p[0] for p in PAGES])
def test_page_answers_the_roles_of_the_matrix(world, login, role, name, perm, args):
    client = login(world.users[role])
    response = client.get(reverse(name, args=args(world)))
    allowed = perm is None or role_has(role, perm)
    assert response.status_code == (200 if allowed else 403), (role, name)
    if not allowed:
        # The refusal is a page of its own, not a crash.
        assert b"<main" in response.content


@pytest.mark.parametrize(
    ("name", "method", "args"),
    [
        ("channel_edit", "get", lambda w: [w.other_channel.pk]),
        ("channel_credentials", "get", lambda w: [w.other_channel.pk]),
        ("channel_credentials", "post", lambda w: [w.other_channel.pk]),
        ("channel_approve", "post", lambda w: [w.other_channel.pk]),
        ("member_role", "post", lambda w: [w.other_membership.pk]),
        ("member_remove", "get", lambda w: [w.other_membership.pk]),
        ("member_remove", "post", lambda w: [w.other_membership.pk]),
        ("member_report", "get", lambda w: [w.other_membership.pk]),
        ("token_revoke", "post", lambda w: [w.other_token.pk]),
        ("conversations:item", "get", lambda w: [w.other_item.pk]),
    ],
)
def test_another_organisations_objects_answer_404(world, owner_client, name, method, args):
    response = getattr(owner_client, method)(reverse(name, args=args(world)), {"role": "analyst"})
    assert response.status_code == 404
    world.other_membership.refresh_from_db()
    assert world.other_membership.role == "moderator" and world.other_membership.is_active
    world.other_token.refresh_from_db()
    assert world.other_token.revoked_at is None


def test_lists_never_show_another_organisations_objects(world, owner_client):
    for name in ("channels", "members", "audit", "tokens", "conversations:items", "home"):
        content = owner_client.get(reverse(name)).content.decode()
        for foreign in ("Autre X", "rival-cm", "Un message d&#x27;ailleurs", "Rival"):
            assert foreign not in content, (name, foreign)


def test_anonymous_people_are_sent_to_sign_in(world, client):
    response = client.get(reverse("channels"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_htmx_request_of_an_anonymous_person_redirects_the_whole_page(world, client):
    response = client.get(reverse("audit"), headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "hidden", "shown"),
    [
        (
            Role.CONTRIBUTOR,
            ["members", "audit", "tokens"],
            ["channels", "conversations:items", "permissions"],
        ),
        (Role.AGENCY_GUEST, ["members", "audit", "tokens"], ["channels", "conversations:items"]),
        (Role.MODERATOR, ["audit", "tokens"], ["members", "channels"]),
        (Role.COMMUNITY_MANAGER, ["tokens"], ["members", "audit", "channels"]),
        (Role.OWNER, [], ["members", "audit", "tokens", "channels", "conversations:items"]),
    ],
)
def test_navigation_shows_only_the_pages_the_role_may_use(world, login, role, hidden, shown):
    content = login(world.users[role]).get(reverse("home")).content.decode()
    for name in hidden:
        assert f'href="{reverse(name)}"' not in content, name
    for name in shown:
        assert f'href="{reverse(name)}"' in content, name


def test_buttons_follow_the_matrix_on_the_channels_page(world, login):
    analyst = login(world.users[Role.ANALYST]).get(reverse("channels")).content.decode()
    assert reverse("channel_create") not in analyst
    assert reverse("channel_credentials", args=[world.channel.pk]) not in analyst
    manager = login(world.users[Role.COMMUNITY_MANAGER]).get(reverse("channels")).content.decode()
    assert reverse("channel_create") in manager
    assert reverse("channel_credentials", args=[world.channel.pk]) in manager


def test_a_member_without_the_permission_cannot_post_either(world, login):
    client = login(world.users[Role.MODERATOR])
    assert (
        client.post(reverse("channel_create"), {"platform": "x", "handle": "@h", "name": "H"}).status_code
        == 403
    )
    target = world.memberships[Role.CONTRIBUTOR]
    assert client.post(reverse("member_role", args=[target.pk]), {"role": "admin"}).status_code == 403
    assert client.post(reverse("token_revoke", args=[world.token.pk])).status_code == 403
    assert client.post(reverse("channel_approve", args=[world.channel.pk])).status_code == 403
    target.refresh_from_db()
    assert target.role == "contributor"
