"""Forms that send the person back where they came from (`next`) never fail on what `next` holds.

A `next` that is not a path (a word, an address elsewhere, `//other.example`) sends them to the
page's own fallback. A word used to be taken for the name of a URL pattern: a server error (500)
for any word Palabre has no pattern of, and a jump to the pattern's page when it had one.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_and_item(make_org, owner_of, make_channel):
    organisation = make_org("Maison Next")
    channel = make_channel(organisation, handle="blog.next.fr", name="Blog")
    item, _created = ingest_item(
        channel=channel,
        incoming=IncomingItem(
            external_id="n-1",
            kind="comment",
            text="Bonjour",
            created_at=timezone.now(),
            author=IncomingAuthor(handle="lea", display_name="Léa"),
        ),
    )
    return owner_of(organisation), item


ROUTES = [
    lambda item: (f"/moderation/items/{item.pk}/review/", {"action": "approve"}, "/moderation/"),
    lambda item: (f"/moderation/items/{item.pk}/undo/", {}, "/moderation/"),
    lambda item: ("/moderation/bulk/", {"action": "approve", "items": [item.pk]}, "/moderation/"),
    lambda item: (f"/connectors/items/{item.pk}/hide/", {}, "/connectors/outbox/"),
    lambda item: ("/connectors/outbox/987654/cancel/", {}, None),
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "target", ["abc", "logout", "https://evil.example/", "//evil.example/x", "javascript:x"]
)
def test_a_next_that_is_not_a_path_here_sends_to_the_fallback(client, owner_and_item, route, target):
    owner, item = owner_and_item
    client.force_login(owner)
    url, data, fallback = route(item)
    answer = client.post(url, {**data, "next": target})
    assert answer.status_code in (302, 404), answer.status_code
    if answer.status_code == 302:
        assert answer.url.startswith("/") and not answer.url.startswith("//")
        assert not answer.url.startswith("/logout")
        assert fallback is None or answer.url.startswith(fallback)


@pytest.mark.parametrize("route", ROUTES[:4])
def test_a_path_of_this_site_is_followed(client, owner_and_item, route):
    owner, item = owner_and_item
    client.force_login(owner)
    url, data, _fallback = route(item)
    answer = client.post(url, {**data, "next": "/inbox/?status=open"})
    assert answer.status_code == 302 and answer.url == "/inbox/?status=open"
