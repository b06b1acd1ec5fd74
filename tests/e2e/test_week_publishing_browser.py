"""A community manager's week, the publishing job, in a real browser: a contributor prepares a post
with a picture (upload, alternative text, per-network preview and live counter), sees before
approval that Instagram is not connected and drops it, submits; an approver approves and finds it
on the calendar. In French and in English, at desktop width and at 390 px. Screenshots go to
$PALABRE_SHOTS (default /tmp/shots)."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from palabre.connectors.base import Capability, Connector, Delivered

PASSWORD = "Palabre-e2e-2024!"
SHOTS = Path(os.environ.get("PALABRE_SHOTS", "/tmp/shots"))

pytestmark = [pytest.mark.e2e, pytest.mark.clock]

WORDS = {
    "en": {
        "publishing": "Publishing",
        "new": "New post",
        "not_connected": "Not connected",
        "no_alt": "No alternative text",
        "submit": "Submit for approval",
        "pending": "Awaiting approval",
        "approved": "Approved",
        "calendar": "See the calendar",
        "scheduled": "Scheduled",
        "left": "characters left",
        "too_many": "characters too many",
    },
    "fr": {
        "publishing": "Publication",
        "new": "Nouvelle publication",
        "not_connected": "Non connecté",
        "no_alt": "Pas de texte alternatif",
        "submit": "Soumettre à validation",
        "pending": "En attente de validation",
        "approved": "Validée",
        "calendar": "Voir le calendrier",
        "scheduled": "Programmée",
        "left": "caractères restants",
        "too_many": "caractères en trop",
    },
}


class LoopbackSky(Connector):
    """Stands for the Bluesky connector in the browser test: same platform and limits, no network."""

    platform = "bluesky"
    capabilities = frozenset({Capability.PUBLISH, Capability.PUBLISH_MEDIA})

    def publish(self, channel, *, text, media=(), idempotency_key):
        return Delivered("at://did:plc:test/app.bsky.feed.post/1", "https://bsky.app/profile/x/post/1")


@pytest.fixture
def sky_connector():
    from palabre.connectors.registry import connector_class_for, register_connector, unregister_connector

    previous = connector_class_for("bluesky")
    register_connector("bluesky", LoopbackSky)
    yield
    if previous is None:
        unregister_connector("bluesky")
    else:
        register_connector("bluesky", previous)


@pytest.fixture
def team(transactional_db, sky_connector):
    from django.contrib.auth import get_user_model

    from palabre.orgs import services
    from palabre.orgs.services import Actor

    owner = get_user_model().objects.create_user("camille", password=PASSWORD)
    organisation = services.create_organisation(name="Maison Lumière", owner=owner)
    boss = Actor.for_user(owner, organisation)
    for username, role in (("lea", "contributor"), ("hugo", "community_manager")):
        services.add_member(
            actor=Actor.palabre(organisation), username=username, password=PASSWORD, role=role
        )
    sky = services.create_channel(
        actor=boss, platform="bluesky", handle="maisonlumiere.bsky.social", name="Bluesky"
    )
    instagram = services.create_channel(
        actor=boss, platform="instagram", handle="maisonlumiere", name="Instagram"
    )
    return organisation, sky, instagram


def picture() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (231, 222, 205))
    draw = ImageDraw.Draw(image)
    draw.rectangle((180, 120, 460, 400), fill=(64, 96, 72))  # a green sofa, seen from far away
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def login(sign_in, page, base: str, username: str, lang: str) -> None:
    page.set_default_timeout(30_000)  # two CPUs shared with other work: saving a post runs every guardrail
    page.context.add_cookies([{"name": "palabre_language", "value": lang, "url": base}])
    sign_in(page, base, username, PASSWORD)
    expect(page.locator("html")).to_have_attribute("lang", lang)


def shot(page, name: str, lang: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"publishing-{name}-{lang}-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width + 1, f"{name} overflows to {overflow}px at {width}px"


@pytest.mark.parametrize(("lang", "width"), [("fr", 1280), ("en", 1280), ("fr", 390), ("en", 390)])
def test_prepare_a_post_with_a_picture_through_approval_to_the_schedule(
    live_server, team, new_page, tmp_path, lang, width, sign_in
):
    from django.utils import timezone

    organisation, sky, instagram = team
    words = WORDS[lang]
    zone = ZoneInfo(organisation.time_zone)
    when = (timezone.now() + timedelta(days=2)).astimezone(zone).replace(hour=18, minute=30)
    base = live_server.url
    image = tmp_path / "canape-oslo.png"
    image.write_bytes(picture())

    writer = new_page(width=width)
    writer.on("dialog", lambda dialog: dialog.accept())
    login(sign_in, writer, base, "lea", lang)
    writer.goto(f"{base}/publishing/new/")
    writer.fill("#id_title", "Canapé Oslo")
    writer.check(f"input[name=channels][value='{sky.pk}']")
    writer.check(f"input[name=channels][value='{instagram.pk}']")
    writer.fill("#id_scheduled_at", when.strftime("%Y-%m-%dT%H:%M"))
    writer.fill("#id_text", "Le canapé Oslo arrive en vert sapin, à découvrir samedi à l'atelier de Nantes.")
    # The editor's live check answers first (one writer at a time on the test's SQLite database).
    expect(writer.locator("#live-check")).to_contain_text("Instagram")
    writer.click("#post-form button[type=submit]")

    # Before approval, Instagram says it is not connected (and needs a picture): no surprise later.
    instagram_section = writer.locator("section.variant", has_text="Instagram").first
    expect(instagram_section.locator(".cannot-publish")).to_contain_text(words["not_connected"])
    expect(writer.locator("form[action$='/submit/'] button")).to_be_disabled()

    # A picture for every channel; without alternative text it says so.
    sky_section = writer.locator(f"#variant-{sky.post_variants.get().pk}")
    sky_section.locator("details.media-upload summary").click()
    sky_section.locator("input[type=file]").set_input_files(str(image))
    sky_section.locator("details.media-upload button[type=submit]").click()
    sky_section = writer.locator(f"#variant-{sky.post_variants.get().pk}")
    expect(sky_section.locator(".media-item")).to_contain_text(words["no_alt"])
    alt = sky_section.locator(".media-item input[name=description]")
    alt.fill("Le canapé Oslo, vert sapin, dans l'atelier")
    sky_section.locator(".media-item form.inline-form button").first.click()
    sky_section = writer.locator(f"#variant-{sky.post_variants.get().pk}")
    expect(sky_section.locator(".preview img")).to_have_attribute(
        "alt", "Le canapé Oslo, vert sapin, dans l'atelier"
    )
    expect(sky_section.locator(".preview-grid img")).to_be_visible()

    # The live counter counts as Bluesky does (300 graphemes) while typing.
    sky_section.locator("details:not(.media-upload) > summary").first.click()
    textarea = sky_section.locator("textarea[name$='-text']")
    textarea.fill("Oslo " * 61)
    expect(sky_section.locator(".counter")).to_contain_text(words["too_many"])
    expect(sky_section.locator(".counter")).to_contain_text("/ 300")
    textarea.fill("Le canapé Oslo arrive en vert sapin 🌲 : à découvrir samedi à l'atelier de Nantes.")
    expect(sky_section.locator(".counter")).to_contain_text(words["left"])
    shot(writer, "draft", lang, width)
    # Saved before the next click: a save still under way when the post is submitted would land
    # after it and send the post back to draft (a change after approval is asked does that).
    with writer.expect_navigation():
        sky_section.locator("form.variant-form button[type=submit]").click()

    # Instagram is dropped (with a confirmation); the post can then go to the approvers. The drop is
    # a form's round trip: its page waited for whole (on a loaded machine it outlasted the count's
    # 15 seconds once).
    with writer.expect_navigation(timeout=60_000):
        writer.locator("section.variant", has_text="Instagram").first.locator("form.drop-form button").click()
    expect(writer.locator("section.variant")).to_have_count(1)
    writer.click(f"text={words['submit']}")
    expect(writer.locator("#post-status")).to_have_text(words["pending"])

    approver = new_page(width=width)
    login(sign_in, approver, base, "hugo", lang)
    post_id = sky.post_variants.get().post_id
    approver.goto(f"{base}/publishing/posts/{post_id}/")
    expect(approver.locator(".preview-grid img")).to_be_visible()
    acknowledge = approver.locator("#acknowledge_warnings")
    if acknowledge.count():
        acknowledge.check()
    approver.click(".approve-form button[type=submit]")
    expect(approver.locator("#post-status")).to_contain_text(words["approved"])
    shot(approver, "approved", lang, width)
    approver.click(f"text={words['calendar']}")
    entry = approver.locator(f".cal-day[data-date='{when.date().isoformat()}'] .cal-entry")
    expect(entry).to_contain_text("18:30")
    expect(entry).to_contain_text("Canapé Oslo")
    expect(entry).to_contain_text(words["scheduled"])
    shot(approver, "calendar", lang, width)
