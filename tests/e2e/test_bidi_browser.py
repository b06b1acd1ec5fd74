"""Names with bidirectional controls and right-to-left names in a real browser (Chromium), in
French, on a desktop (1280 px) and a phone (390 px): the inbox list and the thread show "gpj.exe"
as it is spelled (no U+202E reaches the page), an Arabic name followed by a number stays apart from
the words around it (its element is isolated, its direction its own), and the page fits the screen.
Screenshots go to $PALABRE_SHOTS (default /tmp/shots)."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.e2e,
    # Committed: Chromium's requests are answered on a connection of their own.
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("/usr/bin/chromium"), reason="needs Debian's chromium"),
]

SHOTS = Path(os.environ.get("PALABRE_SHOTS", "/tmp/shots"))
CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


@pytest.fixture
def threads(org, owner, channel, ingest, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from palabre.conversations.services import IncomingAuthor
    from palabre.inbox.models import Conversation

    made = []
    for n, (name, text) in enumerate(
        [
            ("\u202egpj.exe", "Bonjour, voici la photo du pied cassé : \u202egpj.exe"),
            (
                "\u0645\u062d\u0645\u062f 2",
                "\u0645\u0631\u062d\u0628\u0627\u060c \u0627\u0644\u0637\u0627\u0648\u0644\u0629 \u0645\u0643\u0633\u0648\u0631\u0629",
            ),
        ]
    ):
        with django_capture_on_commit_callbacks(execute=True):
            item = ingest(
                channel,
                text=text,
                author=IncomingAuthor(handle=f"auteur-{n}", display_name=name),
                created_at=timezone.now() - timedelta(minutes=10 - n),
            )
        made.append(Conversation.objects.get(root_id=item.thread_root_id or item.pk))
    return made


def _through_django(client):
    """Chromium's requests answered by Django's test client (pages) and the static finders: the
    page Chromium draws is the one Palabre writes, middleware included, without a live server."""
    from django.contrib.staticfiles import finders

    def answer(route):
        path = route.request.url.split(HOST, 1)[1]
        if path.startswith("/static/"):
            found = finders.find(path.removeprefix("/static/").split("?")[0])
            if found is None:
                return route.fulfill(status=404, body="")
            kind = "text/css" if found.endswith(".css") else "application/javascript"
            return route.fulfill(status=200, path=found, content_type=kind)
        response = client.get(path)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        return route.fulfill(status=response.status_code, body=content, content_type=response["Content-Type"])

    return answer


HOST = "http://palabre.test"


@pytest.mark.parametrize("width", [1280, 390])
def test_names_with_bidi_controls_and_right_to_left_names_read_true(browser, owner, threads, width):
    from django.test import Client

    expect = playwright.expect
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(owner)
    client.cookies["palabre_language"] = "fr"
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 900})
    context.route("**/*", _through_django(client))
    page = context.new_page()
    page.set_default_timeout(30_000)
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{HOST}/inbox/")
    rows = page.locator(".inbox-row")
    expect(rows.first).to_be_visible()
    text = page.locator("body").inner_text()
    assert "gpj.exe" in text and not [c for c in CONTROLS if c in page.content()]
    page.screenshot(path=str(SHOTS / f"bidi-inbox-fr-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # In the list, the right-to-left name's element is isolated from the words around it (as
    # <bdi> is).
    name = page.locator(".inbox-open strong", has_text="\u0645\u062d\u0645\u062f 2")
    expect(name).to_be_visible()
    assert name.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"

    page.goto(f"{HOST}/inbox/t/{threads[1].pk}/")
    body = page.locator(".item-text").first
    expect(body).to_be_visible()
    # The conversation's text reads in its own direction: its first letter is Arabic.
    assert body.evaluate("e => getComputedStyle(e).unicodeBidi") == "plaintext"
    page.screenshot(path=str(SHOTS / f"bidi-thread-rtl-fr-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.goto(f"{HOST}/inbox/t/{threads[0].pk}/")
    expect(page.locator(".item-text").first).to_contain_text("gpj.exe")
    assert not [c for c in CONTROLS if c in page.content()]
    page.screenshot(path=str(SHOTS / f"bidi-thread-exe-fr-{width}.png"), full_page=True)
    context.close()
