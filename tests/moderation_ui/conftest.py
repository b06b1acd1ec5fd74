"""A brand with one member per role, rules, and items moderated by the real analysis on commit;
plus another organisation whose items must answer 404."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone

from palabre.conversations.models import Item
from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item
from palabre.moderation import services as moderation
from palabre.moderation.models import ItemModeration
from palabre.orgs.models import Channel, Organisation
from palabre.orgs.permissions import Role
from palabre.orgs.services import Actor

SUSPECT = "remboursement"
BANNED = "arnaque"


@dataclass
class Brand:
    organisation: Organisation
    channel: Channel
    users: dict[Role, object]
    other: Organisation
    other_item: Item
    items: dict[str, Item] = field(default_factory=dict)

    def actor(self, role: Role = Role.OWNER) -> Actor:
        return Actor.for_user(self.users[role], self.organisation)

    def status(self, item: Item) -> str:
        return ItemModeration.objects.get(item=item).status


@pytest.fixture
def ingest_moderated(django_capture_on_commit_callbacks):
    """`ingest_moderated(channel, "42", text, author="@x")`: ingested as a connector does; the analysis
    task (moderation included) runs when the transaction commits."""
    counter = iter(range(1, 10_000))

    def run(
        channel, external_id: str, text: str, *, author: str = "", hours_ago: float = 1.0, kind="comment"
    ):
        incoming = IncomingItem(
            external_id=external_id,
            kind=kind,
            text=text,
            created_at=timezone.now() - timedelta(hours=hours_ago, seconds=next(counter)),
            author=IncomingAuthor(
                handle=author or f"@author-{external_id}", display_name=author.strip("@").title()
            )
            if author is not None
            else None,
            language="fr",
        )
        with django_capture_on_commit_callbacks(execute=True):
            item, _created = ingest_item(channel=channel, incoming=incoming)
        item.refresh_from_db()
        return item

    return run


@pytest.fixture
def brand(db, make_org, make_member, make_channel, owner_of, ingest_moderated) -> Brand:
    organisation = make_org("Maison Dupont", slug="maison-dupont")
    users = {Role.OWNER: owner_of(organisation)}
    for role in Role:
        if role != Role.OWNER:
            users[role] = make_member(organisation, role.value, username=role.value.replace("_", "-")).user
    channel = make_channel(organisation, "site", handle="blog.maison-dupont.fr", name="Blog")
    boss = Actor.for_user(users[Role.OWNER], organisation)
    moderation.create_rule(actor=boss, kind="suspect_word", pattern=SUSPECT, note="à vérifier", enabled=True)
    moderation.create_rule(actor=boss, kind="banned_word", pattern=BANNED, enabled=True)

    other = make_org("Autre Marque", slug="autre-marque")
    other_channel = make_channel(other, "site", handle="autre.example", name="Autre blog")
    other_item = ingest_moderated(other_channel, "o1", f"Je veux un {SUSPECT} tout de suite")

    found = Brand(organisation=organisation, channel=channel, users=users, other=other, other_item=other_item)
    found.items["held"] = ingest_moderated(
        channel, "h1", f"Je demande le {SUSPECT} de ma commande", author="@camille", hours_ago=3
    )
    found.items["held2"] = ingest_moderated(
        channel, "h2", f"Toujours pas de {SUSPECT}, je suis déçue", author="@camille", hours_ago=2
    )
    found.items["rejected"] = ingest_moderated(
        channel, "r1", f"Cette boutique est une {BANNED}", author="@hugo"
    )
    found.items["published"] = ingest_moderated(
        channel, "p1", "Bonjour, le canapé Oslo existe-t-il en vert ?", author="@lea"
    )
    return found


@pytest.fixture
def client_for(client):
    """`client_for(user)`: the test client, signed in as this person."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
