"""A channel's Options page in a real browser, at 1280 and 390 px: an admin reaches it from the
channel page, a bad value comes back with its field named and nothing is cut off or wider than the
screen, in French; a good one is saved."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

PASSWORD = "Palabre-e2e-2024!"
SHOTS = Path(os.environ.get("PALABRE_SHOTS", "/tmp/shots"))

pytestmark = pytest.mark.e2e


@pytest.fixture
def youtube(transactional_db):
    from django.contrib.auth import get_user_model

    from palabre.orgs import services
    from palabre.orgs.services import Actor

    owner = get_user_model().objects.create_user("camille", password=PASSWORD)
    org = services.create_organisation(name="Maison Dupont", owner=owner)
    return services.create_channel(
        actor=Actor.palabre(org), platform="youtube", handle="UCmaisondupont", name="Chaîne YouTube"
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_sets_the_channels_options_at_both_widths(live_server, youtube, new_page, sign_in, width):
    page = new_page(width=width)
    sign_in(page, live_server.url, "camille", PASSWORD, lang="fr")
    page.goto(f"{live_server.url}/connectors/channels/{youtube.pk}/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"channel-page-{width}.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.click("#channel-options-link")
    expect(page.locator("h1")).to_contain_text("Options de")
    page.evaluate(
        "() => { const s = document.querySelector('#id_privacy_status');"
        " s.add(new Option('tout le monde', 'everyone')); s.value = 'everyone'; }"
    )
    page.click("#channel-options button[type=submit]")
    expect(page.locator(".field.has-error")).to_contain_text("Confidentialité des vidéos publiées")
    expect(page.locator(".field.has-error .error")).to_contain_text("everyone")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SHOTS / f"channel-options-{width}.png"), full_page=True)
    page.select_option("#id_privacy_status", "unlisted")
    page.click("#channel-options button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Chaîne YouTube")
    youtube.refresh_from_db()
    assert youtube.options["privacy_status"] == "unlisted"
