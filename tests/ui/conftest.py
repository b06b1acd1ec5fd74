"""Two organisations built with the real services: one member per role in the first, and a
second organisation whose objects must stay out of reach (404) from the first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from palabre.conversations.models import Item
from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item
from palabre.orgs import services
from palabre.orgs.models import ApiToken, Channel, Membership, Organisation
from palabre.orgs.permissions import Perm, Role
from palabre.orgs.services import Actor

PASSWORD = "Palabre-test-2024!"


@dataclass
class World:
    organisation: Organisation
    users: dict[Role, object]
    memberships: dict[Role, Membership]
    channel: Channel
    token: ApiToken
    items: list[Item]
    other: Organisation
    other_owner: object
    other_channel: Channel
    other_membership: Membership
    other_token: ApiToken
    other_item: Item
    extra: dict = field(default_factory=dict)

    def actor(self, role: Role = Role.OWNER) -> Actor:
        return Actor.for_user(self.users[role], self.organisation)


def username_for(role: Role) -> str:
    return role.value.replace("_", "-")


def _make_item(
    channel: Channel, external_id: str, text: str, *, language="fr", parent="", kind="comment", ago=1
):
    incoming = IncomingItem(
        external_id=external_id,
        kind=kind,
        text=text,
        created_at=timezone.now() - timedelta(hours=ago),
        author=IncomingAuthor(
            handle=f"@{external_id}-author", display_name=f"Auteur {external_id}", followers=12
        ),
        language=language,
        parent_external_id=parent,
        metrics={"likes": 3},
    )
    item, _created = ingest_item(channel=channel, incoming=incoming)
    return item


@pytest.fixture
def make_item():
    """`make_item(channel, external_id, text, language="fr", parent="", kind="comment", ago=hours)`."""
    return _make_item


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The default hasher is slow by design; nine accounts per test would take minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db) -> World:
    User = get_user_model()
    owner = User.objects.create_user("owner", email="owner@dupont.example", password=PASSWORD)
    organisation = services.create_organisation(name="Maison Dupont", owner=owner)
    boss = Actor.for_user(owner, organisation)
    users = {Role.OWNER: owner}
    for role in Role:
        if role != Role.OWNER:
            services.add_member(
                actor=Actor.palabre(organisation),
                username=username_for(role),
                email=f"{username_for(role)}@dupont.example",
                password=PASSWORD,
                role=role.value,
            )
            users[role] = User.objects.get(username=username_for(role))
    memberships = {
        Role(m.role): m for m in Membership.objects.filter(organisation=organisation).select_related("user")
    }
    channel = services.create_channel(
        actor=boss, platform="mastodon", handle="@dupont@piaille.fr", name="Piaille"
    )
    token, _plain = services.create_api_token(actor=boss, name="Blog", scopes=[Perm.ITEMS_INGEST.value])
    root = _make_item(channel, "1", "Bonjour, où est ma commande ?", ago=5)
    reply = _make_item(channel, "2", "Elle arrive demain, désolé du retard.", parent="1", kind="reply", ago=4)
    english = _make_item(channel, "3", "Love the new chairs!", language="en", kind="mention", ago=3)

    other_owner = User.objects.create_user("rival", password=PASSWORD)
    other = services.create_organisation(name="Autre Marque", owner=other_owner)
    rival = Actor.for_user(other_owner, other)
    other_channel = services.create_channel(actor=rival, platform="x", handle="@autre", name="Autre X")
    other_membership = services.add_member(
        actor=Actor.palabre(other), username="rival-cm", password=PASSWORD, role="moderator"
    )
    other_token, _plain = services.create_api_token(actor=rival, name="Rival", scopes=[Perm.ITEMS_VIEW.value])
    other_item = _make_item(other_channel, "9", "Un message d'ailleurs")
    return World(
        organisation=organisation,
        users=users,
        memberships=memberships,
        channel=channel,
        token=token,
        items=[root, reply, english],
        other=other,
        other_owner=other_owner,
        other_channel=other_channel,
        other_membership=other_membership,
        other_token=other_token,
        other_item=other_item,
    )


@pytest.fixture
def login(client):
    """Sign a person in with the test client and return the client."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def owner_client(world, login):
    return login(world.users[Role.OWNER])
