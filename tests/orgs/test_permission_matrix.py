"""Every role against every permission: the services allow exactly what MATRIX says, no more."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from palabre.conversations.services import channel_for_ingest, items_for, merge_contacts
from palabre.orgs.permissions import MATRIX, Perm, Role, role_has, roles_with
from palabre.orgs.services import (
    Actor,
    approve_spokesperson_channel,
    change_role,
    create_api_token,
    create_channel,
    invite_member,
    offboard_member,
    revoke_api_token,
    revoke_invitation,
    set_channel_credentials,
    update_channel,
)

ROLES = list(Role)


@pytest.fixture
def world(org, owner, make_member, make_channel, ingest):
    """What the guarded services act on, prepared by the owner and Palabre itself."""
    cm = make_member(org, Role.COMMUNITY_MANAGER)
    brand = make_channel(org, "site", handle="shop.example.fr")
    first = ingest(brand, "c-1", author="lea").contact
    second = ingest(brand, "c-2", author="lea_2").contact
    token, _raw = create_api_token(actor=Actor.palabre(org), name="feed", scopes=[Perm.ITEMS_VIEW.value])
    return {
        "org": org,
        "brand": brand,
        "spokesperson_channel": make_channel(org, "x", handle="@cm_perso", spokesperson=cm.user),
        "contacts": (first, second),
        "token": token,
        "victim": make_member(org, Role.CONTRIBUTOR),
        "invitation": invite_member(
            actor=Actor.palabre(org), email="soon@x.fr", role=Role.ANALYST, site_url="http://x"
        ).invitation,
    }


# Each permission with a service guarding it: (the call, every permission the call needs).
SERVICES = {
    Perm.CHANNELS_MANAGE: [
        (
            lambda a, w: create_channel(actor=a, platform="rss", handle="https://x.fr/feed", name="Feed"),
            set(),
        ),
        (lambda a, w: update_channel(actor=a, channel=w["brand"], name="Boutique"), set()),
        (
            lambda a, w: set_channel_credentials(
                actor=a,
                channel=w["spokesperson_channel"],
                credentials={"tier": "basic", "client_id": "k", "client_secret": "v"},
            ),
            set(),
        ),
    ],
    Perm.MEMBERS_MANAGE: [
        (
            lambda a, w: invite_member(actor=a, email="new@x.fr", role=Role.ANALYST, site_url="http://x"),
            set(),
        ),
        (lambda a, w: revoke_invitation(actor=a, invitation=w["invitation"]), set()),
        (lambda a, w: change_role(actor=a, membership=w["victim"], role=Role.MODERATOR), set()),
        (lambda a, w: offboard_member(actor=a, membership=w["victim"]), set()),
    ],
    Perm.OWNERS_MANAGE: [
        (
            lambda a, w: invite_member(actor=a, email="co@x.fr", role=Role.OWNER, site_url="http://x"),
            {Perm.MEMBERS_MANAGE},
        ),
        (lambda a, w: change_role(actor=a, membership=w["victim"], role=Role.OWNER), {Perm.MEMBERS_MANAGE}),
    ],
    Perm.SPOKESPERSON_APPROVE: [
        (lambda a, w: approve_spokesperson_channel(actor=a, channel=w["spokesperson_channel"]), set()),
    ],
    Perm.TOKENS_MANAGE: [
        (lambda a, w: create_api_token(actor=a, name="zapier", scopes=[Perm.ITEMS_VIEW.value]), set()),
        (lambda a, w: revoke_api_token(actor=a, token=w["token"]), set()),
    ],
    Perm.ITEMS_INGEST: [
        (lambda a, w: channel_for_ingest(actor=a, channel_id=w["brand"].pk), set()),
    ],
    Perm.ITEMS_VIEW: [
        (lambda a, w: list(items_for(a)), set()),
    ],
    Perm.CONTACTS_MANAGE: [
        (lambda a, w: merge_contacts(actor=a, target=w["contacts"][0], sources=[w["contacts"][1]]), set()),
    ],
}

CASES = [
    pytest.param(role, perm, index, id=f"{role.value}-{perm.value}-{index}")
    for role in ROLES
    for perm, calls in SERVICES.items()
    for index in range(len(calls))
]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "perm", "index"), CASES)
def test_each_service_allows_exactly_the_roles_of_the_matrix(
    world, make_member, actor_for, role, perm, index
):
    call, also_needs = SERVICES[perm][index]
    member = make_member(world["org"], role)
    actor = actor_for(member.user, world["org"])
    expected = all(p in MATRIX[role] for p in {perm, *also_needs})
    if expected:
        call(actor, world)
    else:
        with pytest.raises(PermissionDenied):
            call(actor, world)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_the_actor_and_the_membership_carry_exactly_the_roles_permissions(org, make_member, actor_for, role):
    member = make_member(org, role)
    actor = actor_for(member.user, org)
    for perm in Perm:
        assert actor.can(perm) is (perm in MATRIX[role]), perm
        assert member.can(perm) is (perm in MATRIX[role]), perm
        assert role_has(role.value, perm.value) is (perm in MATRIX[role])


def test_the_matrix_keeps_its_promises():
    assert set(MATRIX) == set(Role)
    assert MATRIX[Role.OWNER] == frozenset(Perm)
    # Only an owner appoints owners and lets a personal account speak for the brand.
    assert roles_with(Perm.OWNERS_MANAGE) == [Role.OWNER]
    assert roles_with(Perm.SPOKESPERSON_APPROVE) == [Role.OWNER]
    # An agency sees no members, no audit log, no credentials, no tokens.
    for perm in (Perm.MEMBERS_VIEW, Perm.AUDIT_VIEW, Perm.CHANNELS_MANAGE, Perm.TOKENS_MANAGE):
        assert perm not in MATRIX[Role.AGENCY_GUEST]
    # Read-only roles change nothing.
    assert MATRIX[Role.ANALYST] <= {Perm.CHANNELS_VIEW, Perm.ITEMS_VIEW, Perm.ANALYTICS_VIEW}
    assert not role_has("no-such-role", Perm.ITEMS_VIEW)
    assert not role_has(Role.OWNER.value, "no.such.perm")


def test_every_service_guard_is_covered():
    required = {
        Perm.CHANNELS_MANAGE,
        Perm.MEMBERS_MANAGE,
        Perm.OWNERS_MANAGE,
        Perm.SPOKESPERSON_APPROVE,
        Perm.TOKENS_MANAGE,
        Perm.ITEMS_INGEST,
        Perm.CONTACTS_MANAGE,
    }
    assert required <= set(SERVICES)


@pytest.mark.django_db
def test_a_token_acts_only_within_its_scopes(world):
    token, _raw = create_api_token(
        actor=Actor.palabre(world["org"]), name="ingest only", scopes=[Perm.ITEMS_INGEST.value]
    )
    actor = Actor.for_token(token)
    assert channel_for_ingest(actor=actor, channel_id=world["brand"].pk) == world["brand"]
    with pytest.raises(PermissionDenied):
        list(items_for(actor))
    with pytest.raises(PermissionDenied):
        update_channel(actor=actor, channel=world["brand"], name="Hijacked")


@pytest.mark.django_db
def test_a_token_cannot_do_more_than_its_creator(org, make_member, actor_for):
    cm = make_member(org, Role.COMMUNITY_MANAGER)
    admin = make_member(org, Role.ADMIN)
    with pytest.raises(PermissionDenied):
        # A community manager has no tokens.manage at all.
        create_api_token(actor=actor_for(cm.user, org), name="x", scopes=[Perm.ITEMS_VIEW.value])
    with pytest.raises(PermissionDenied):
        # An admin cannot mint a token that appoints owners.
        create_api_token(actor=actor_for(admin.user, org), name="x", scopes=[Perm.OWNERS_MANAGE.value])


@pytest.mark.django_db
def test_an_admin_cannot_make_or_unmake_owners(org, owner, make_member, actor_for):
    admin = actor_for(make_member(org, Role.ADMIN).user, org)
    second_owner = make_member(org, Role.OWNER)
    with pytest.raises(PermissionDenied):
        change_role(actor=admin, membership=second_owner, role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        invite_member(actor=admin, email="boss@x.fr", role=Role.OWNER, site_url="http://x")
