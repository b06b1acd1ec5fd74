"""A feed behind a login is fetched when its credentials are saved: a refused login shows then,
as an authentication failure, not at some later pull. Against a loopback server playing the blog."""

from __future__ import annotations

from pathlib import Path

import pytest
from platform_server import Answer

from palabre.connectors import services
from palabre.orgs.services import set_channel_credentials

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
RSS = "application/rss+xml; charset=UTF-8"


@pytest.fixture
def members_blog(org, make_channel, platform_server):
    body = (FIXTURES / "blog_feed.xml").read_text(encoding="utf-8").replace("{BASE}", platform_server.url)
    platform_server.on("GET", "/feed/", Answer(body=body, content_type=RSS))
    return make_channel(org, "rss", handle=f"{platform_server.url}/feed/", name="Le blog des membres")


def test_a_good_login_connects_and_names_the_feed(members_blog, platform_server, owner_actor):
    set_channel_credentials(
        actor=owner_actor,
        channel=members_blog,
        credentials={"username": "cm", "password": "bon-mot-de-passe"},
    )
    result = services.try_credentials(actor=owner_actor, channel=members_blog)
    assert result["status"] == "connected" and result["account"]
    (fetched,) = platform_server.made("GET", "/feed/")
    assert fetched.headers["Authorization"].startswith("Basic ")


def test_a_refused_login_fails_the_check_as_authentication(members_blog, platform_server, owner_actor):
    platform_server.on("GET", "/feed/", Answer(401, "Unauthorized", content_type="text/plain"))
    set_channel_credentials(
        actor=owner_actor, channel=members_blog, credentials={"username": "cm", "password": "faux"}
    )
    result = services.try_credentials(actor=owner_actor, channel=members_blog)
    assert result["status"] == "failed" and result["code"] == "token_expired"
    assert "refused" in result["detail"]
