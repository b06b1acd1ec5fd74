"""Organisations, members, channels and tokens: the invariants the services keep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from palabre.orgs.models import ApiToken, Channel, Membership, Organisation
from palabre.orgs.permissions import Perm, Role
from palabre.orgs.services import (
    Actor,
    accept_invitation,
    access_report,
    add_member,
    approve_spokesperson_channel,
    authenticate_token,
    change_role,
    create_api_token,
    create_channel,
    create_organisation,
    invite_member,
    memberships_of,
    revoke_api_token,
    set_active_organisation,
    update_channel,
)

pytestmark = pytest.mark.django_db


def fields_of(error: ValidationError) -> set[str]:
    return set(error.message_dict)


# --- organisations and members -----------------------------------------------------------------


def test_an_organisation_starts_with_its_owner(make_user):
    founder = make_user("claire")
    organisation = create_organisation(name="  Café Richard ", owner=founder)
    assert (organisation.name, organisation.slug) == ("Café Richard", "cafe-richard")
    membership = Membership.objects.get(organisation=organisation)
    assert (membership.user, membership.role) == (founder, Role.OWNER)


@pytest.mark.parametrize(("name", "slug", "field"), [("  ", "", "name"), ("!!!", "", "slug")])
def test_an_organisation_needs_a_name_and_a_short_name(make_user, name, slug, field):
    with pytest.raises(ValidationError) as error:
        create_organisation(name=name, owner=make_user(), slug=slug)
    assert fields_of(error.value) == {field}


def test_short_names_are_unique(make_user, make_org):
    make_org("Maison Dupont")
    with pytest.raises(ValidationError) as error:
        create_organisation(name="Maison  Dupont", owner=make_user())
    assert fields_of(error.value) == {"slug"}
    assert Organisation.objects.count() == 1


def test_adding_a_member_creates_the_account_once(org, make_org, owner_of):
    other = make_org("Autre")
    first = add_member(actor=Actor.palabre(org), username="ines", role=Role.MODERATOR, password="pw-12345678")
    second = add_member(actor=Actor.palabre(other), username="ines", role=Role.ANALYST)
    assert first.user == second.user
    assert first.user.check_password("pw-12345678")
    assert [m.organisation for m in memberships_of(first.user).order_by("organisation__name")] == [other, org]


@pytest.mark.parametrize(
    ("email", "role", "field"),
    [("", Role.ANALYST, "email"), ("pas-un-mail", Role.ANALYST, "email"), ("a@b.fr", "overlord", "role")],
)
def test_an_invitation_validates_the_fields(org, owner_actor, email, role, field):
    with pytest.raises(ValidationError) as error:
        invite_member(actor=owner_actor, email=email, role=role, site_url="http://x")
    assert fields_of(error.value) == {field}


def test_a_person_is_a_member_once(org, owner_actor, make_member):
    member = make_member(org, Role.ANALYST, username="dup")
    issued = invite_member(actor=owner_actor, email="dup@x.fr", role=Role.MODERATOR, site_url="http://x")
    with pytest.raises(ValidationError) as error:
        accept_invitation(user=member.user, code=issued.code)
    assert fields_of(error.value) == {"code"}
    assert Membership.objects.get(organisation=org, user=member.user).role == Role.ANALYST


def test_the_last_owner_keeps_their_role(org, owner, owner_actor):
    with pytest.raises(ValidationError) as error:
        change_role(actor=owner_actor, membership=Membership.objects.get(user=owner), role=Role.ADMIN)
    assert fields_of(error.value) == {"role"}


def test_an_owner_hands_over_to_another_owner(org, owner, owner_actor, make_member):
    successor = make_member(org, Role.ADMIN)
    change_role(actor=owner_actor, membership=successor, role=Role.OWNER)
    change_role(actor=owner_actor, membership=Membership.objects.get(user=owner), role=Role.ADMIN)
    assert Membership.objects.get(pk=successor.pk).role == Role.OWNER


def test_choosing_the_active_organisation(org, owner, make_org):
    set_active_organisation(user=owner, organisation=org)
    assert owner.preference.active_organisation == org
    with pytest.raises(PermissionDenied):
        set_active_organisation(user=owner, organisation=make_org("Pas la mienne"))


# --- channels ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "handle", "name", "field"),
    [("myspace", "x", "X", "platform"), ("site", "  ", "X", "handle"), ("site", "x", " ", "name")],
)
def test_a_channel_is_validated_field_by_field(owner_actor, platform, handle, name, field):
    with pytest.raises(ValidationError) as error:
        create_channel(actor=owner_actor, platform=platform, handle=handle, name=name)
    assert fields_of(error.value) == {field}


def test_a_channel_is_connected_once_per_organisation(org, owner_actor, make_org, make_channel):
    make_channel(org, "x", handle="@brand")
    with pytest.raises(ValidationError) as error:
        create_channel(actor=owner_actor, platform="x", handle="@brand", name="Again")
    assert fields_of(error.value) == {"handle"}
    # Another organisation may well follow the same account.
    assert make_channel(make_org("Veille"), "x", handle="@brand").handle == "@brand"


def test_update_channel_refuses_unknown_fields_and_statuses(owner_actor, channel):
    with pytest.raises(ValidationError) as error:
        update_channel(actor=owner_actor, channel=channel, organisation_id=99)
    assert fields_of(error.value) == {"organisation_id"}
    with pytest.raises(ValidationError) as error:
        update_channel(actor=owner_actor, channel=channel, status="deleted")
    assert fields_of(error.value) == {"status"}


def test_a_personal_account_waits_for_an_owners_approval(org, owner_actor, make_member, actor_for):
    cm = make_member(org, Role.COMMUNITY_MANAGER)
    cm_actor = actor_for(cm.user, org)
    personal = create_channel(actor=cm_actor, platform="x", handle="@me", name="Me", spokesperson=True)
    assert (personal.kind, personal.status, personal.spokesperson) == (
        "spokesperson",
        "awaiting_approval",
        cm.user,
    )
    assert not personal.can_publish
    with pytest.raises(ValidationError):
        update_channel(actor=cm_actor, channel=personal, status=Channel.Status.ACTIVE)
    approve_spokesperson_channel(actor=owner_actor, channel=personal)
    assert personal.can_publish
    assert personal.spokesperson_approved_by is not None


def test_only_a_person_connects_their_own_account(org):
    with pytest.raises(ValidationError) as error:
        create_channel(actor=Actor.palabre(org), platform="x", handle="@bot", name="Bot", spokesperson=True)
    assert fields_of(error.value) == {"spokesperson"}


def test_a_brand_channel_needs_no_spokesperson_approval(owner_actor, channel):
    assert channel.can_publish
    with pytest.raises(ValidationError) as error:
        approve_spokesperson_channel(actor=owner_actor, channel=channel)
    assert fields_of(error.value) == {"kind"}


# --- API tokens --------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_stored_hashed(owner_actor):
    token, raw = create_api_token(actor=owner_actor, name="wordpress", scopes=[Perm.ITEMS_INGEST.value])
    secret = raw.split("_", 2)[2]
    assert secret not in token.secret_hash
    assert authenticate_token(raw) == token
    assert authenticate_token(raw + "x") is None
    assert authenticate_token("plb_nothing") is None
    assert authenticate_token("Bearer whatever") is None
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


@pytest.mark.parametrize(
    ("name", "scopes", "expires_in", "field"),
    [
        (" ", ["items.view"], None, "name"),
        ("x", [], None, "scopes"),
        ("x", ["items.destroy"], None, "scopes"),
        ("x", ["items.view"], -1, "expires_at"),
    ],
)
def test_token_creation_validates_the_fields(owner_actor, name, scopes, expires_in, field):
    expires_at = timezone.now() + timedelta(days=expires_in) if expires_in else None
    with pytest.raises(ValidationError) as error:
        create_api_token(actor=owner_actor, name=name, scopes=scopes, expires_at=expires_at)
    assert fields_of(error.value) == {field}


def test_revoked_and_expired_tokens_stop_working(owner_actor):
    token, raw = create_api_token(actor=owner_actor, name="a", scopes=[Perm.ITEMS_VIEW.value])
    revoke_api_token(actor=owner_actor, token=token)
    assert authenticate_token(raw) is None
    with pytest.raises(PermissionDenied):
        Actor.for_token(token)

    soon, raw = create_api_token(
        actor=owner_actor,
        name="b",
        scopes=[Perm.ITEMS_VIEW.value],
        expires_at=timezone.now() + timedelta(hours=1),
    )
    assert authenticate_token(raw) == soon
    ApiToken.objects.filter(pk=soon.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert authenticate_token(raw) is None


# --- listings stay at a fixed number of queries ------------------------------------------------


def test_memberships_of_a_person_list_in_one_query(make_user, make_org, django_assert_max_num_queries):
    person = make_user("multi")
    for index in range(6):
        make_org(f"Org {index}", owner=person)
    with django_assert_max_num_queries(1):
        names = [m.organisation.name for m in memberships_of(person)]
    assert len(names) == 6


def test_the_access_report_costs_the_same_however_much_there_is(
    org, make_member, make_channel, actor_for, django_assert_max_num_queries
):
    admin = make_member(org, Role.ADMIN)
    actor = actor_for(admin.user, org)
    for index in range(8):
        make_channel(org, "rss", handle=f"https://example.fr/{index}")
        create_api_token(actor=actor, name=f"t{index}", scopes=[Perm.ITEMS_VIEW.value])
    with django_assert_max_num_queries(4):
        report = access_report(admin)
    assert len(report["channels"]) == 8
    assert len(report["api_tokens"]) == 8
