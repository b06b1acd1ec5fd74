"""A failing source is explained in the reader's language; the technical detail (often a system's
English, "[Errno 111] Connection refused") stays behind a disclosure."""

from __future__ import annotations

import re
import socket

from django.urls import reverse
from django.utils import translation

from palabre.listening.services import poll_source

from .conftest import fixture_text


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _visible_text(html: str) -> str:
    """The page without its <details> bodies (the disclosed technical detail)."""
    return re.sub(r"<details.*?</details>", "", html, flags=re.S)


def test_an_unreachable_source_reads_in_french_with_the_detail_folded(
    org, owner, client, make_source, allow_loopback
):
    source = make_source(
        org, "rss", {"url": f"http://127.0.0.1:{_closed_port()}/feed.xml"}, name="Blog fermé"
    )
    outcome = poll_source(source)
    source.refresh_from_db()
    assert outcome["failures"] == 1
    assert source.last_error_code == "unreachable" and source.last_error  # the detail is kept

    client.force_login(owner)
    page = client.get(reverse("listening:sources"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    visible = _visible_text(page)
    assert "La source n’a pas pu être jointe" in visible
    assert "\u202f: La source" in visible  # French typography before the explanation
    assert "Errno" not in visible and "Could not reach" not in visible
    assert "Détail technique" in page


def test_an_http_error_and_recovery_clear_the_code(org, make_source, loopback):
    source = make_source(org, "rss", {"url": f"{loopback.url}/feed.xml"})
    loopback.route("/feed.xml", "down", status=503, content_type="text/plain")
    poll_source(source)
    source.refresh_from_db()
    assert source.last_error_code == "http_error"
    with translation.override("en"):
        assert source.error_words.startswith("The source answered with an error")

    loopback.route("/feed.xml", fixture_text("feed.rss"), content_type="application/rss+xml")
    poll_source(source, force=True)
    source.refresh_from_db()
    assert source.last_error_code == "" and source.last_error == ""


def test_the_api_gives_the_code(org, make_source, loopback, owner_actor, client):
    from palabre.orgs.models import Perm
    from palabre.orgs.services import create_api_token

    source = make_source(org, "rss", {"url": f"{loopback.url}/feed.xml"})
    loopback.route("/feed.xml", "{}", status=429, content_type="application/json")
    poll_source(source)
    _token, key = create_api_token(actor=owner_actor, name="api", scopes=[p.value for p in Perm])
    listed = client.get("/api/listening/sources", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    (mine,) = [row for row in listed if row["id"] == source.pk]
    assert mine["last_error_code"] == "rate_limited"
