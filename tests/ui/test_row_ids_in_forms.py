"""Ids typed into a page's form beyond what a database row id can be (64 bits) are refused as any
unknown choice is, with the field named, instead of a server error (SQLite cannot bind them,
PostgreSQL refuses them out of range)."""

from __future__ import annotations

import pytest

from palabre.storable import MAX_ROW_ID

pytestmark = pytest.mark.django_db
HUGE = str(MAX_ROW_ID + 1)


@pytest.fixture
def owner_and_channel(make_org, owner_of, make_channel):
    organisation = make_org("Maison Ids")
    return owner_of(organisation), make_channel(organisation, handle="blog.ids.fr", name="Blog")


def test_a_new_post_for_a_channel_id_beyond_64_bits(client, owner_and_channel):
    owner, channel = owner_and_channel
    client.force_login(owner)
    answer = client.post(
        "/publishing/new/", {"title": "Lancement", "text": "Bientôt", "channels": [str(channel.pk), HUGE]}
    )
    assert answer.status_code in (200, 400)
    assert "channels" in answer.context["form"].errors


def test_the_live_check_with_a_channel_id_beyond_64_bits(client, owner_and_channel):
    owner, channel = owner_and_channel
    client.force_login(owner)
    answer = client.post(
        "/publishing/check/", {"text": "Bonjour à tous", "channels": [HUGE, str(channel.pk)]}
    )
    assert answer.status_code == 200
    assert b"Blog" in answer.content
