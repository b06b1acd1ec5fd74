"""The comment form embedded in a brand's blog, in a real browser: a mistake, a reload, a server down,
and the typed comment is never lost; once accepted it is published and the draft is gone.

The blog is a second tiny HTTP server on loopback (another origin than Palabre's live server), its
origin added to the site's allowed origins, serving a page that embeds the script as a brand would.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

TEXT = "Bonjour,\nle canapé Oslo existe-t-il en vert ? Il irait bien dans mon salon."

pytestmark = pytest.mark.e2e


@pytest.fixture
def blog_server():
    """The brand's blog: any path answers the article page set in `server.html`."""

    class Blog(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = self.server.html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Blog)
    server.html = ""
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def embedded(transactional_db, live_server, blog_server, monkeypatch):
    from django.contrib.auth import get_user_model

    from palabre.compat.widget import comments as widget
    from palabre.moderation import services as moderation
    from palabre.moderation.models import ModerationSite
    from palabre.orgs import services
    from palabre.orgs.services import Actor

    # A person needs more than 3 s; the test, after a pause of its own, waits 1.
    monkeypatch.setattr(widget, "MIN_SECONDS_TO_SUBMIT", 1.0)
    owner = get_user_model().objects.create_user("camille", password="Palabre-e2e-2024!")
    organisation = services.create_organisation(name="Maison Dupont", owner=owner)
    site, _key = moderation.create_moderation_site(
        actor=Actor.for_user(owner, organisation), name="Blog", url="https://blog.maison-dupont.fr/"
    )
    moderation.create_rule(
        actor=Actor.for_user(owner, organisation),
        kind="suspect_word",
        pattern="remboursement",
        enabled=True,
    )
    origin = f"http://127.0.0.1:{blog_server.server_address[1]}"
    ModerationSite.objects.filter(pk=site.pk).update(allowed_origins=[origin])
    post = f"{origin}/2024/05/canape-oslo"
    blog_server.html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Le canapé Oslo</title></head>
<body><article><h1>Le canapé Oslo</h1><p>Notre nouveau canapé.</p></article>
<div id="palabre-comments"></div>
<script src="{live_server.url}/widget/{site.public_id}/embed.js" data-page="{post}" async></script>
</body></html>"""
    return {"site": site, "post": post, "prefix": f"#palabre-{site.public_id}"}


def test_the_typed_comment_survives_a_mistake_a_reload_and_a_server_down(embedded, browser_page):
    from palabre.conversations.models import Item
    from palabre.moderation.models import ItemModeration

    page, prefix = browser_page, embedded["prefix"]
    page.goto(embedded["post"])
    name = page.get_by_label("Name", exact=True)
    email = page.get_by_label("E-mail", exact=True)
    text = page.get_by_label("Comment", exact=True)
    expect(page.locator("#palabre-comments h2")).to_have_text("Comments (0)")
    expect(page.locator("#palabre-comments .palabre-empty")).to_be_visible()

    # A mistake in the e-mail address: the server says so next to the field; nothing typed is lost.
    name.fill("Léa Martin")
    email.fill("lea.martin@")
    text.fill(TEXT)
    page.get_by_role("button", name="Send").click()
    expect(page.locator(f"{prefix}-email-error")).to_contain_text("This e-mail address looks wrong")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    expect(page.locator(f"{prefix}-result")).to_contain_text("Your text is kept")
    expect(text).to_have_value(TEXT)
    assert Item.objects.count() == 0

    # A reload (or a crash, or a closed tab) brings the draft back.
    page.reload()
    expect(text).to_have_value(TEXT)
    expect(name).to_have_value("Léa Martin")
    expect(email).to_have_value("lea.martin@")
    expect(page.locator("#palabre-comments .palabre-message").first).to_have_text(
        "Your unsent comment was restored."
    )

    # The comment server is down, then unreachable: the text stays, and the person is told.
    email.fill("lea.martin@example.org")
    page.route(
        lambda url: "/comments" in url,
        lambda route: (
            route.fulfill(status=503, body="down") if route.request.method == "POST" else route.continue_()
        ),
    )
    page.get_by_role("button", name="Send").click()
    expect(page.locator(f"{prefix}-result")).to_contain_text("kept here")
    expect(text).to_have_value(TEXT)
    page.unroute_all()
    page.route(
        lambda url: "/comments" in url,
        lambda route: route.abort() if route.request.method == "POST" else route.continue_(),
    )
    page.get_by_role("button", name="Send").click()
    expect(page.locator(f"{prefix}-result")).to_contain_text("kept here")
    expect(text).to_have_value(TEXT)
    page.unroute_all()
    assert Item.objects.count() == 0

    # Sent at last: published, on the page, and the draft is gone.
    page.wait_for_timeout(1100)
    page.get_by_role("button", name="Send").click()
    expect(page.locator(f"{prefix}-result")).to_have_text("Thank you, your comment is published.")
    expect(page.locator("#palabre-comments .palabre-comment")).to_have_count(1)
    expect(page.locator("#palabre-comments .palabre-comment .palabre-text")).to_have_text(TEXT)
    expect(page.locator("#palabre-comments h2")).to_have_text("Comments (1)")
    expect(text).to_have_value("")
    drafts = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('palabre:draft:'))")
    assert drafts == []
    (item,) = Item.objects.all()
    assert item.text == TEXT and item.url == embedded["post"]
    assert ItemModeration.objects.get(item=item).status == "published"

    page.reload()
    expect(page.locator("#palabre-comments .palabre-comment .palabre-author")).to_have_text("Léa Martin")
    expect(text).to_have_value("")
    expect(page.locator("#palabre-comments")).not_to_contain_text("lea.martin@example.org")


def test_a_held_comment_is_shown_to_its_author_only_even_after_a_reload(embedded, new_page, browser_page):
    page, prefix = browser_page, embedded["prefix"]
    page.goto(embedded["post"])
    page.get_by_label("Name", exact=True).fill("Hugo")
    page.get_by_label("E-mail", exact=True).fill("hugo@example.org")
    page.get_by_label("Comment", exact=True).fill("Je voudrais un remboursement pour ma commande, merci.")
    page.wait_for_timeout(1100)
    page.get_by_role("button", name="Send").click()
    expect(page.locator(f"{prefix}-result")).to_contain_text("awaits moderation")
    pending = page.locator("#palabre-comments .palabre-comment.palabre-pending")
    expect(pending).to_have_count(1)
    expect(pending.locator(".palabre-badge")).to_have_text("Awaiting moderation: only you can see it.")
    expect(page.locator("#palabre-comments h2")).to_have_text("Comments (0)")

    page.reload()  # the reader's token, kept in localStorage, brings it back
    expect(pending).to_have_count(1)
    expect(pending.locator(".palabre-text")).to_contain_text("remboursement")

    other = new_page(width=1000)
    other.goto(embedded["post"])
    expect(other.locator("#palabre-comments .palabre-empty")).to_be_visible()
    expect(other.locator("#palabre-comments")).not_to_contain_text("remboursement")
    other.context.close()


def test_without_javascript_the_framed_form_publishes(embedded, browser, blog_server, live_server):
    """The page without JavaScript, framed by the blog: a browser sends Origin with the form's POST (a
    post without Origin or Referer is refused), so a person's comment goes through."""
    site, post = embedded["site"], embedded["post"]
    form_url = f"{live_server.url}/widget/{site.public_id}/form?page={post}"
    blog_server.html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Le canapé Oslo</title></head>
<body><h1>Le canapé Oslo</h1><iframe src="{form_url}" width="600" height="900" title="Comments"></iframe>
</body></html>"""
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(post)
    frame = page.frame_locator("iframe")
    frame.get_by_label("Name", exact=True).fill("Inès")
    frame.get_by_label("E-mail", exact=True).fill("ines@example.org")
    frame.get_by_label("Comment", exact=True).fill("Sans JavaScript, mon avis arrive quand même.")
    page.wait_for_timeout(1100)
    frame.get_by_role("button", name="Send").click()
    expect(frame.locator("body")).to_contain_text("Thank you, your comment is published.")
    expect(frame.locator("body")).to_contain_text("Sans JavaScript, mon avis arrive quand même.")

    context.close()
