"""Connecting a channel in one step in a real browser: choosing the platform swaps in its
credential fields (htmx) without losing what was typed, and the channel is created and tried."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

PASSWORD = "Palabre-e2e-2024!"

pytestmark = pytest.mark.e2e


@pytest.fixture
def brand(transactional_db):
    from django.contrib.auth import get_user_model

    from palabre.orgs import services

    owner = get_user_model().objects.create_user("camille", password=PASSWORD)
    return services.create_organisation(name="Maison Dupont", owner=owner)


def test_the_credential_fields_follow_the_platform_and_the_channel_is_created_with_them(
    live_server, brand, browser_page, sign_in
):
    page = browser_page
    sign_in(page, live_server.url, "camille", PASSWORD)
    page.goto(f"{live_server.url}/channels/new/")
    page.wait_for_load_state("load")  # htmx listening before the select changes

    page.fill("#id_name", "Bluesky")
    page.select_option("#id_platform", "bluesky")
    expect(page.locator("#id_new-credential_app_password")).to_be_visible()
    expect(page.locator("#id_new-credential_access_token")).to_have_count(0)
    expect(page.locator("#id_name")).to_have_value("Bluesky")  # only the fields were swapped

    page.select_option("#id_platform", "mastodon")
    expect(page.locator("#id_new-credential_access_token")).to_be_visible()
    page.fill("#id_handle", "@dupont@piaille.fr")
    page.fill("#id_new-credential_api_base_url", "https://piaille.invalid")
    page.fill("#id_new-credential_access_token", "secret-token")
    page.click("form.stacked button[type=submit]:not([name])")
    # Created, then tried: the server cannot be reached, so the channel's credentials page opens
    # with the failure said and what was typed kept, to correct it there.
    expect(page.locator("#connection-result")).to_contain_text("Connection failed")
    expect(page.locator("#id_credential_api_base_url")).to_have_value("https://piaille.invalid")
    expect(page.locator("#id_credential_access_token")).to_have_value("secret-token")
    page.fill("#id_credential_api_base_url", "https://piaille.example")
    page.click("form.stacked button[type=submit]")
    expect(page.locator("#connection-result")).to_contain_text("Connection failed")  # still unreachable
    expect(page.locator("h1")).to_contain_text("Bluesky")  # the same channel, not a second one
