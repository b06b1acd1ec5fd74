"""One organisation never reads nor changes another's data, whatever its role there."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from palabre.conversations.models import Item
from palabre.conversations.services import channel_for_ingest, get_item, items_for, merge_contacts
from palabre.orgs.models import AuditEvent, Membership
from palabre.orgs.permissions import Perm, Role
from palabre.orgs.services import (
    Actor,
    NotInOrganisation,
    approve_spokesperson_channel,
    change_role,
    create_api_token,
    offboard_member,
    revoke_api_token,
    set_active_organisation,
    set_channel_credentials,
    update_channel,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_orgs(make_org, owner_of, make_member, make_channel, ingest, actor_for):
    org_a, org_b = make_org("Alpha Cosmétiques"), make_org("Bravo Meubles")
    owner_a, owner_b = owner_of(org_a), owner_of(org_b)
    cm_b = make_member(org_b, Role.COMMUNITY_MANAGER)
    channel_b = make_channel(
        org_b,
        "facebook",
        handle="bravo.meubles",
        credentials={"client_id": "42", "client_secret": "B-SECRET"},
    )
    item_b = ingest(channel_b, "fb-1", author="client_b")
    other_b = ingest(channel_b, "fb-2", author="client_b_bis")
    token_b, _raw = create_api_token(
        actor=actor_for(owner_b, org_b), name="b", scopes=[Perm.ITEMS_VIEW.value]
    )
    channel_a = make_channel(org_a, "facebook", handle="alpha.cosmetiques")
    item_a = ingest(channel_a, "fb-1", author="client_a")
    return {
        "a": actor_for(owner_a, org_a),  # the most powerful person of A
        "org_a": org_a,
        "owner_a": owner_a,
        "org_b": org_b,
        "channel_a": channel_a,
        "item_a": item_a,
        "channel_b": channel_b,
        "spokesperson_b": make_channel(org_b, "x", handle="@cm_b", spokesperson=cm_b.user),
        "member_b": cm_b,
        "owner_membership_b": Membership.objects.get(organisation=org_b, user=owner_b),
        "item_b": item_b,
        "contacts_b": (item_b.contact, other_b.contact),
        "token_b": token_b,
    }


CHANGES_TO_B = {
    "update a channel": lambda a, w: update_channel(actor=a, channel=w["channel_b"], name="Pwned"),
    "replace credentials": lambda a, w: set_channel_credentials(
        actor=a, channel=w["channel_b"], credentials={"client_id": "42", "client_secret": "mine"}
    ),
    "approve a spokesperson": lambda a, w: approve_spokesperson_channel(actor=a, channel=w["spokesperson_b"]),
    "change a role": lambda a, w: change_role(actor=a, membership=w["member_b"], role=Role.ANALYST),
    "remove a member": lambda a, w: offboard_member(actor=a, membership=w["member_b"]),
    "remove the owner": lambda a, w: offboard_member(actor=a, membership=w["owner_membership_b"]),
    "revoke a token": lambda a, w: revoke_api_token(actor=a, token=w["token_b"]),
    "read an item": lambda a, w: get_item(actor=a, item_id=w["item_b"].pk),
    "ingest into a channel": lambda a, w: channel_for_ingest(actor=a, channel_id=w["channel_b"].pk),
    "merge contacts": lambda a, w: merge_contacts(
        actor=a, target=w["contacts_b"][0], sources=[w["contacts_b"][1]]
    ),
    "pull a contact into one's own": lambda a, w: merge_contacts(
        actor=a, target=w["item_a"].contact, sources=[w["contacts_b"][0]]
    ),
}


@pytest.mark.parametrize("change", list(CHANGES_TO_B), ids=list(CHANGES_TO_B))
def test_an_owner_of_a_reaches_nothing_of_b(two_orgs, change):
    audit_before = AuditEvent.objects.filter(organisation=two_orgs["org_b"]).count()
    with pytest.raises(NotInOrganisation):
        CHANGES_TO_B[change](two_orgs["a"], two_orgs)
    two_orgs["channel_b"].refresh_from_db()
    assert two_orgs["channel_b"].name != "Pwned"
    assert two_orgs["channel_b"].read_credentials() == {"client_id": "42", "client_secret": "B-SECRET"}
    assert Membership.objects.active().filter(organisation=two_orgs["org_b"]).count() == 2
    assert AuditEvent.objects.filter(organisation=two_orgs["org_b"]).count() == audit_before


@pytest.mark.parametrize("change", list(CHANGES_TO_B), ids=list(CHANGES_TO_B))
def test_a_token_of_a_reaches_nothing_of_b(two_orgs, change):
    token, _raw = create_api_token(actor=two_orgs["a"], name="everything", scopes=[p.value for p in Perm])
    with pytest.raises(NotInOrganisation):
        CHANGES_TO_B[change](Actor.for_token(token), two_orgs)


def test_listings_show_only_the_organisations_own_items(two_orgs):
    visible = list(items_for(two_orgs["a"]))
    assert visible == [two_orgs["item_a"]]
    assert Item.objects.filter(organisation=two_orgs["org_b"]).count() == 2


def test_a_person_cannot_act_in_an_organisation_they_do_not_belong_to(two_orgs):
    with pytest.raises(PermissionDenied):
        Actor.for_user(two_orgs["owner_a"], two_orgs["org_b"])
    with pytest.raises(PermissionDenied):
        set_active_organisation(user=two_orgs["owner_a"], organisation=two_orgs["org_b"])


def test_a_removed_member_cannot_act_any_more(two_orgs, make_member, actor_for):
    leaver = make_member(two_orgs["org_a"], Role.COMMUNITY_MANAGER)
    offboard_member(actor=two_orgs["a"], membership=leaver)
    with pytest.raises(PermissionDenied):
        actor_for(leaver.user, two_orgs["org_a"])
