"""The widget over a real server on loopback (pytest-django's live_server) with httpx, as a blog's
readers reach it: the JSON endpoint with CORS, and the page without JavaScript with its cookie."""

from __future__ import annotations

import re

import httpx
import pytest
from widget_world import BANNED, BANNED_TEXT, BLOG, FINE_TEXT, HELD_TEXT, PAGE, status_of

from palabre.conversations.models import Item

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reader(live_server):
    with httpx.Client(base_url=live_server.url, timeout=30, headers={"Origin": BLOG}) as client:
        yield client


def _items():
    return list(Item.objects.filter(external_id__startswith="widget:"))


def test_comments_through_the_json_endpoint(reader, blog):
    published = reader.post(blog.comments_url, json=blog.comment())
    assert published.status_code == 201 and published.json()["status"] == "published"
    assert published.headers["access-control-allow-origin"] == BLOG

    held = reader.post(blog.comments_url, json=blog.comment(text=HELD_TEXT))
    assert held.json()["status"] == "held"
    token = held.json()["author_token"]

    refused = reader.post(blog.comments_url, json=blog.comment(text=BANNED_TEXT))
    assert refused.json()["status"] == "rejected"
    assert any(BANNED in reason for reason in refused.json()["reasons"])

    listed = reader.get(blog.comments_url, params={"page": PAGE}).json()
    assert [c["text"] for c in listed["comments"]] == [FINE_TEXT] and listed["pending"] == []
    mine = reader.get(blog.comments_url, params={"page": PAGE}, headers={"X-Palabre-Author": token}).json()
    assert [c["text"] for c in mine["pending"]] == [HELD_TEXT]

    # The analysis task ran on commit (immediate backend): it agrees with the answers given.
    assert sorted(status_of(item) for item in _items()) == ["held", "published", "rejected"]


def test_errors_name_the_field_and_store_nothing(reader, blog):
    bad_email = reader.post(blog.comments_url, json=blog.comment(email="lea@@example"))
    assert bad_email.status_code == 400 and list(bad_email.json()["errors"]) == ["email"]
    too_long = reader.post(blog.comments_url, json=blog.comment(text="b" * 5001))
    assert too_long.status_code == 400 and list(too_long.json()["errors"]) == ["text"]
    assert _items() == []


def test_honeypot_and_haste(reader, blog):
    trap = reader.post(blog.comments_url, json=blog.comment(website="http://spam.example"))
    assert trap.json()["status"] == "held"
    fresh = reader.get(blog.comments_url, params={"page": PAGE}).json()["form_token"]
    hasty = reader.post(
        blog.comments_url, json=blog.comment(form_token=fresh, text="Autre avis, bien écrit.")
    )
    assert hasty.json()["status"] == "held"
    statuses = {item.text: status_of(item) for item in _items()}
    assert statuses == {FINE_TEXT: "rejected", "Autre avis, bien écrit.": "held"}


def test_cors_over_the_wire(live_server, blog):
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        preflight = client.options(
            blog.comments_url,
            headers={
                "Origin": BLOG,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == BLOG
        evil = client.get(
            blog.comments_url, params={"page": PAGE}, headers={"Origin": "https://evil.example"}
        )
        assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
        forged = client.post(
            blog.comments_url, json=blog.comment(), headers={"Origin": "https://evil.example"}
        )
        assert forged.status_code == 403
    assert _items() == []


def test_the_page_without_javascript(live_server, blog):
    with httpx.Client(base_url=live_server.url, timeout=30) as browser:
        shown = browser.get(blog.form_url, params={"page": PAGE})
        assert shown.status_code == 200
        assert f"frame-ancestors 'self' {BLOG}" in shown.headers["content-security-policy"].split("; ")
        assert "x-frame-options" not in shown.headers
        own_origin = live_server.url

        # A mistake first: everything typed comes back, the error next to the e-mail field.
        data = blog.comment(email="lea.martin@", text=HELD_TEXT)
        wrong = browser.post(blog.form_url, params={"page": PAGE}, data=data, headers={"Origin": own_origin})
        assert wrong.status_code == 200
        assert "This e-mail address looks wrong" in wrong.text
        assert HELD_TEXT in wrong.text.replace("&#x27;", "'")

        # Corrected: held, shown to its author (by the cookie) and to nobody else.
        data["email"] = "lea.martin@example.org"
        sent = browser.post(blog.form_url, params={"page": PAGE}, data=data, headers={"Origin": own_origin})
        assert sent.status_code == 303 and "sent=held" in sent.headers["location"]
        outcome = browser.get(sent.headers["location"])
        assert "Awaiting moderation" in outcome.text and "remboursement" in outcome.text
    with httpx.Client(base_url=live_server.url, timeout=30) as stranger:
        assert "remboursement" not in stranger.get(blog.form_url, params={"page": PAGE}).text


def test_a_revoked_site_is_gone(live_server, blog):
    from palabre.moderation.services import revoke_moderation_site

    revoke_moderation_site(actor=blog.actor, site=blog.site)
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        assert client.get(blog.embed_url).status_code == 404
        assert client.get(blog.form_url, params={"page": PAGE}).status_code == 404
        assert (
            client.post(blog.comments_url, json=blog.comment(), headers={"Origin": BLOG}).status_code == 404
        )


def test_the_script_is_served_with_the_sites_endpoint(live_server, blog):
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        script = client.get(blog.embed_url)
    assert script.status_code == 200
    assert re.search(
        r'"comments": "http://[^"]+/widget/' + re.escape(blog.site.public_id) + '/comments"', script.text
    )


@pytest.mark.postgres  # SQLite's in-memory test database shares one connection between the server's threads
def test_concurrent_posts_with_one_token_store_one_comment(live_server, blog):
    from concurrent.futures import ThreadPoolExecutor

    data = blog.comment()

    def send(text):
        with httpx.Client(base_url=live_server.url, timeout=30, headers={"Origin": BLOG}) as client:
            return client.post(blog.comments_url, json=dict(data, text=text)).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = sorted(pool.map(send, [f"Avis numéro {n}, tous avec le même jeton." for n in range(4)]))
    assert codes == [201, 400, 400, 400]
    assert len(_items()) == 1
