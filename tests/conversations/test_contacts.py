"""Contacts: one person however many handles; merging moves their handles and items."""

from __future__ import annotations

import signal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from palabre.conversations.models import Contact, ContactHandle, Item
from palabre.conversations.services import merge_contacts
from palabre.orgs.permissions import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def camille(org, channel, make_channel, ingest):
    """The same customer, seen on the blog and on Instagram under two handles."""
    instagram = make_channel(org, "instagram", handle="maison.dupont")
    return {
        "blog": [ingest(channel, "b1", author="camille.d"), ingest(channel, "b2", author="camille.d")],
        "instagram": [ingest(instagram, "i1", author="@cam_d")],
        "instagram_channel": instagram,
        "other": ingest(channel, "b3", author="jules"),
    }


def test_merge_moves_handles_and_items_to_the_target(owner_actor, camille, ingest):
    target = camille["blog"][0].contact
    source = camille["instagram"][0].contact
    Contact.objects.filter(pk=target.pk).update(tags=["vip"])
    Contact.objects.filter(pk=source.pk).update(tags=["instagram"], notes="Prefers DMs")
    target.refresh_from_db()
    source.refresh_from_db()

    merged = merge_contacts(actor=owner_actor, target=target, sources=[source])

    assert merged == target
    assert set(ContactHandle.objects.filter(contact=target).values_list("handle", flat=True)) == {
        "camille.d",
        "@cam_d",
    }
    assert set(Item.objects.filter(contact=target).values_list("external_id", flat=True)) == {
        "b1",
        "b2",
        "i1",
    }
    assert Contact.objects.get(pk=source.pk).merged_into == target
    target.refresh_from_db()
    assert target.tags == ["instagram", "vip"]
    assert target.notes == "Prefers DMs"
    assert Item.objects.get(external_id="b3").contact == camille["other"].contact != target
    # New items from the merged handle go straight to the surviving contact.
    later = ingest(camille["instagram_channel"], "i2", author="@cam_d")
    assert later.contact == target


def test_merging_again_follows_earlier_merges(owner_actor, camille, ingest, channel):
    first, second, third = (
        camille["blog"][0].contact,
        camille["instagram"][0].contact,
        camille["other"].contact,
    )
    merge_contacts(actor=owner_actor, target=second, sources=[first])
    merge_contacts(actor=owner_actor, target=third, sources=[second])
    assert Contact.objects.get(pk=first.pk).merged_into == third
    assert ingest(channel, "b4", author="camille.d").contact == third


def test_merging_needs_another_contact(owner_actor, camille):
    contact = camille["blog"][0].contact
    with pytest.raises(ValidationError) as error:
        merge_contacts(actor=owner_actor, target=contact, sources=[contact])
    assert set(error.value.message_dict) == {"sources"}


def test_merging_needs_contacts_manage(org, make_member, actor_for, camille):
    moderator = actor_for(make_member(org, Role.MODERATOR).user, org)
    with pytest.raises(PermissionDenied):
        merge_contacts(
            actor=moderator, target=camille["blog"][0].contact, sources=[camille["instagram"][0].contact]
        )


@pytest.fixture
def fail_if_hanging():
    def alarm(signum, frame):
        raise TimeoutError("still running after 2 s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(2)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_merging_back_into_a_merged_contact_keeps_ingestion_working(
    owner_actor, camille, ingest, channel, fail_if_hanging
):
    first, second = camille["blog"][0].contact, camille["instagram"][0].contact
    merge_contacts(actor=owner_actor, target=first, sources=[second])
    second.refresh_from_db()
    try:
        merge_contacts(actor=owner_actor, target=second, sources=[Contact.objects.get(pk=first.pk)])
    except ValidationError:
        return  # refusing to merge into a merged contact is a fine answer too
    second.refresh_from_db()
    assert second.merged_into_id != second.pk
    assert ingest(channel, "b9", author="camille.d").contact is not None
