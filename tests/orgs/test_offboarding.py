"""A member leaves: their access ends at once, and everything they worked on stays."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError

from palabre.conversations.models import Item
from palabre.orgs.models import ApiToken, AuditEvent, Channel, Membership
from palabre.orgs.permissions import Perm, Role
from palabre.orgs.services import (
    approve_spokesperson_channel,
    authenticate_token,
    create_api_token,
    create_channel,
    offboard_member,
    update_channel,
)

pytestmark = pytest.mark.django_db

NOWHERE = "/__no-such-page__/"


@pytest.fixture
def leaver(org, owner_actor, make_member, actor_for, ingest):
    """An admin who connected channels, minted a token and brought their own account in."""
    membership = make_member(org, Role.ADMIN, username="julie")
    actor = actor_for(membership.user, org)
    brand = create_channel(
        actor=actor,
        platform="instagram",
        handle="maison.dupont",
        name="Instagram",
        credentials={"client_id": "42", "client_secret": "x"},
    )
    personal = create_channel(actor=actor, platform="x", handle="@julie_cm", name="Julie", spokesperson=True)
    approve_spokesperson_channel(actor=owner_actor, channel=personal)
    token, raw = create_api_token(actor=actor, name="julie's script", scopes=[Perm.ITEMS_VIEW.value])
    items = [ingest(brand, "ig-1", author="fan"), ingest(personal, "x-1", author="fan")]
    return {
        "membership": membership,
        "brand": brand,
        "personal": personal,
        "token": token,
        "raw": raw,
        "items": items,
    }


def test_removal_logs_the_person_out_of_every_session_at_once(client, org, owner_actor, leaver):
    user = leaver["membership"].user
    client.force_login(user)
    other_device = type(client)()
    other_device.force_login(user)
    assert client.get(NOWHERE).wsgi_request.user == user

    report = offboard_member(actor=owner_actor, membership=leaver["membership"])

    assert report["sessions_revoked"] == 2
    assert client.get(NOWHERE).wsgi_request.user.is_anonymous
    assert other_device.get(NOWHERE).wsgi_request.user.is_anonymous
    assert not Session.objects.filter(session_key=client.session.session_key).exists()


def test_removal_revokes_their_api_tokens_at_once(owner_actor, leaver):
    assert authenticate_token(leaver["raw"]) == leaver["token"]
    report = offboard_member(actor=owner_actor, membership=leaver["membership"])
    assert report["api_tokens_revoked"] == 1
    assert authenticate_token(leaver["raw"]) is None
    leaver["token"].refresh_from_db()
    assert leaver["token"].revoked_at is not None


def test_tokens_of_the_people_who_stay_keep_working(owner_actor, leaver):
    _token, raw = create_api_token(actor=owner_actor, name="owner's", scopes=[Perm.ITEMS_VIEW.value])
    offboard_member(actor=owner_actor, membership=leaver["membership"])
    assert authenticate_token(raw) is not None


def test_channels_and_items_stay_with_the_organisation(org, owner_actor, leaver):
    offboard_member(actor=owner_actor, membership=leaver["membership"])
    brand = Channel.objects.get(pk=leaver["brand"].pk)
    assert brand.organisation == org
    assert brand.status == Channel.Status.ACTIVE
    assert brand.read_credentials() == {"client_id": "42", "client_secret": "x"}
    assert Item.objects.filter(organisation=org).count() == len(leaver["items"])
    assert set(Item.objects.values_list("channel_id", flat=True)) == {
        leaver["brand"].pk,
        leaver["personal"].pk,
    }


def test_their_spokesperson_channel_is_paused(owner_actor, leaver):
    report = offboard_member(actor=owner_actor, membership=leaver["membership"])
    personal = Channel.objects.get(pk=leaver["personal"].pk)
    assert personal.status == Channel.Status.PAUSED
    assert not personal.can_publish
    assert report["spokesperson_channels_paused"] == ["Julie"]


def test_a_departed_spokespersons_channel_cannot_be_reactivated_without_a_new_approval(
    org, make_member, actor_for, owner_actor, leaver
):
    offboard_member(actor=owner_actor, membership=leaver["membership"])
    cm = actor_for(make_member(org, Role.COMMUNITY_MANAGER).user, org)
    with pytest.raises(ValidationError):
        update_channel(actor=cm, channel=Channel.objects.get(pk=leaver["personal"].pk), status="active")


def test_a_departed_persons_pending_account_cannot_be_approved(org, make_member, actor_for, owner_actor):
    cm = make_member(org, Role.COMMUNITY_MANAGER)
    pending = create_channel(
        actor=actor_for(cm.user, org), platform="x", handle="@cm_perso", name="CM", spokesperson=True
    )
    offboard_member(actor=owner_actor, membership=cm)
    with pytest.raises((ValidationError, PermissionDenied)):
        approve_spokesperson_channel(actor=owner_actor, channel=Channel.objects.get(pk=pending.pk))
    assert not Channel.objects.get(pk=pending.pk).can_publish


def test_the_access_report_is_returned_stored_and_audited(org, owner, owner_actor, leaver):
    report = offboard_member(actor=owner_actor, membership=leaver["membership"])

    membership = Membership.objects.get(pk=leaver["membership"].pk)
    assert not membership.is_active
    assert membership.removed_by == owner
    assert membership.offboarding_report == report
    assert report["role"] == Role.ADMIN.value
    assert Perm.CHANNELS_MANAGE.value in report["permissions"]
    assert len(report["permission_labels"]) == len(report["permissions"])
    assert {c["name"] for c in report["channels"]} == {"Instagram", "Julie"}
    assert report["could_manage_channels"] is True
    assert [t["name"] for t in report["api_tokens"]] == ["julie's script"]
    assert report["spokesperson_channels"] == [{"id": leaver["personal"].pk, "name": "Julie"}]
    assert report["removed_at"]

    event = AuditEvent.objects.filter(organisation=org, action="member.removed").get()
    assert event.actor == owner
    assert event.target_label == "julie"
    assert event.before == {"role": Role.ADMIN.value}
    assert event.after == report


def test_the_last_owner_cannot_be_removed(org, owner, owner_actor):
    only_owner = Membership.objects.get(organisation=org, user=owner)
    with pytest.raises(ValidationError) as error:
        offboard_member(actor=owner_actor, membership=only_owner)
    assert "membership" in error.value.message_dict
    assert Membership.objects.get(pk=only_owner.pk).is_active


def test_an_owner_can_leave_when_another_owner_remains(org, owner, owner_actor, make_member):
    make_member(org, Role.OWNER)
    offboard_member(actor=owner_actor, membership=Membership.objects.get(organisation=org, user=owner))
    assert not Membership.objects.get(organisation=org, user=owner).is_active


def test_an_admin_cannot_remove_an_owner(org, owner, make_member, actor_for):
    make_member(org, Role.OWNER)  # so that "last owner" is not the reason
    admin = actor_for(make_member(org, Role.ADMIN).user, org)
    with pytest.raises(PermissionDenied):
        offboard_member(actor=admin, membership=Membership.objects.get(organisation=org, user=owner))
    assert Membership.objects.get(organisation=org, user=owner).is_active


def test_a_member_cannot_be_removed_twice(owner_actor, leaver):
    offboard_member(actor=owner_actor, membership=leaver["membership"])
    with pytest.raises(ValidationError):
        offboard_member(actor=owner_actor, membership=Membership.objects.get(pk=leaver["membership"].pk))


def test_a_removed_person_can_be_invited_back(org, owner_actor, leaver, make_member):
    offboard_member(actor=owner_actor, membership=leaver["membership"])
    back = make_member(org, Role.ANALYST, username="julie")
    assert back.user == leaver["membership"].user
    assert Membership.objects.filter(organisation=org, user=back.user).count() == 2
    assert ApiToken.objects.get(pk=leaver["token"].pk).revoked_at is not None
