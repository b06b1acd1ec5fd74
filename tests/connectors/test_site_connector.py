"""Site comments: the brand's reply goes through the outbox and shows under the comment in the
widget (JSON and the page without JavaScript); hide and delete stop showing the comment."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest

from palabre.compat.widget import comments as widget
from palabre.connectors import services
from palabre.connectors.models import ActionStatus
from palabre.connectors.registry import connector_for
from palabre.connectors.site import SiteConnector
from palabre.conversations.models import Item
from palabre.moderation.models import ModerationSite
from palabre.moderation.services import create_moderation_site
from palabre.orgs.services import Actor

BLOG = "https://blog.maison-dupont.fr"
PAGE = f"{BLOG}/2024/05/canape-oslo"
FINE_TEXT = "Bonjour, le canapé Oslo existe-t-il en vert ?"
REPLY = "Bonjour Léa, oui : le canapé Oslo existe en vert sapin."


@dataclass
class Blog:
    site: ModerationSite

    @property
    def comments_url(self) -> str:
        return f"/widget/{self.site.public_id}/comments"

    @property
    def form_url(self) -> str:
        return f"/widget/{self.site.public_id}/form"

    def comment(self) -> dict[str, str]:
        return {
            "name": "Léa Martin",
            "email": "lea.martin@example.org",
            "text": FINE_TEXT,
            "website": "",
            "page": PAGE,
            "form_token": widget.issue_form_token(self.site, issued_at=time.time() - 30),
        }


@pytest.fixture
def blog(org):
    site, _key = create_moderation_site(actor=Actor.palabre(org), name="Blog", url=BLOG + "/")
    return Blog(site)


@pytest.fixture
def comment(client, blog):
    answer = client.post(
        blog.comments_url, json.dumps(blog.comment()), content_type="application/json", HTTP_ORIGIN=BLOG
    )
    assert answer.json()["status"] == "published"
    return Item.objects.get(channel=blog.site.channel, kind="comment")


def test_site_channels_use_the_site_connector(blog):
    assert isinstance(connector_for(blog.site.channel), SiteConnector)


def test_brand_reply_is_shown_under_the_comment(client, blog, comment, owner_actor):
    action = services.queue_reply(actor=owner_actor, item=comment, text=REPLY)
    services.deliver(action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT
    assert action.url.startswith(PAGE + "#palabre-")
    listed = client.get(blog.comments_url, {"page": PAGE}, HTTP_ORIGIN=BLOG).json()
    assert [c["text"] for c in listed["comments"]] == [FINE_TEXT]
    replies = listed["comments"][0]["replies"]
    assert [r["text"] for r in replies] == [REPLY]
    assert replies[0]["name"] == blog.site.channel.name
    page = client.get(blog.form_url, {"page": PAGE})
    html = page.content.decode()
    assert "palabre-brand-reply" in html and "le canapé Oslo existe en vert sapin" in html


def test_reply_delivered_twice_is_stored_once(blog, comment, owner_actor):
    action = services.queue_reply(actor=owner_actor, item=comment, text=REPLY)
    services.deliver(action.pk)
    connector = SiteConnector()
    again = connector.reply(
        blog.site.channel, in_reply_to=comment, text=REPLY, idempotency_key=action.idempotency_key
    )
    action.refresh_from_db()
    assert again.external_id == action.external_id
    assert Item.objects.filter(channel=blog.site.channel, kind="reply").count() == 1


@pytest.mark.parametrize("queue", [services.queue_hide, services.queue_delete])
def test_hide_and_delete_stop_showing_the_comment(client, blog, comment, owner_actor, queue):
    action = queue(actor=owner_actor, item=comment)
    assert services.deliver(action.pk).outcome == "sent"
    listed = client.get(blog.comments_url, {"page": PAGE}, HTTP_ORIGIN=BLOG).json()
    assert listed["comments"] == []
    # Never destroyed: the comment is still there, rejected.
    comment.refresh_from_db()
    assert comment.moderation.status == "rejected"
