"""Links to Bluesky posts and profiles point at the web app of the network the brand uses (its
`web_url`), not always bsky.app. Against the fake AT Protocol server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from platform_server import Answer, load_fixture

from palabre.connectors.bluesky import BlueskyConnector

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
SESSION = "/xrpc/com.atproto.server.createSession"
NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"


@pytest.fixture
def sky(org, make_channel, platform_server):
    platform_server.on("POST", SESSION, Answer(body=load_fixture(FIXTURES, "create_session.json")))
    return make_channel(
        org,
        "bluesky",
        handle="maisondupont.bsky.social",
        credentials={
            "identifier": "maisondupont.bsky.social",
            "app_password": "abcd-efgh-ijkl-mnop",
            "service": platform_server.url,
            "web_url": "https://social.maison-dupont.fr/",
        },
    )


def test_links_use_the_brands_web_app(sky, platform_server):
    platform_server.on("GET", NOTIFICATIONS, Answer(body=load_fixture(FIXTURES, "list_notifications.json")))
    items = BlueskyConnector().pull(sky, "").items
    assert items
    for item in items:
        assert item.url.startswith("https://social.maison-dupont.fr/profile/")
        assert item.author.profile_url.startswith("https://social.maison-dupont.fr/profile/")
        assert "bsky.app" not in item.url
