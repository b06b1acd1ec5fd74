"""Listening in a real browser: a query refused at its position keeps what was typed; crisis mode."""

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
    organisation = services.create_organisation(name="Maison Lumière", owner=owner)
    return {"organisation": organisation, "owner": owner}


def test_a_query_with_a_mistake_is_shown_where_it_goes_wrong_then_crisis_mode(
    live_server, brand, browser_page, sign_in
):
    from palabre.listening.services import is_crisis_active

    page = browser_page
    sign_in(page, live_server.url, "camille", PASSWORD)
    page.click("nav.sidenav >> a[href='/listening/']")
    page.wait_for_load_state("load")  # its scripts run before we press or change
    page.click("nav.subnav >> a[href='/listening/queries/']")

    typed = '"Maison Lumière" AND (lampe OR luminaire'
    page.fill("#id_name", "Marque")
    page.fill("#id_query", typed)
    page.click("form:has(#id_query) button[type=submit]")
    expect(page.locator("#id_query")).to_have_value(typed)
    expect(page.locator("#id_name")).to_have_value("Marque")
    expect(page.locator(".query-caret mark")).to_have_text("(")
    expect(page.locator(".field.has-error .error")).to_contain_text("22")

    page.fill("#id_query", typed + ")")
    page.click("form:has(#id_query) button[type=submit]")
    # A new query opens on its page, where it searches what was already collected.
    expect(page.locator("h1")).to_have_text("Marque")
    expect(page.locator("#backfill")).to_be_visible()

    page.click("nav.subnav >> a[href='/listening/crisis/']")
    page.fill("#id_reason", "Rappel des lampes Nova")
    page.click("form[action='/listening/crisis/switch/'] button[type=submit]")
    expect(page.locator(".crisis-banner")).to_contain_text("Rappel des lampes Nova")
    page.locator("ul.checklist li").first.locator("button").click()
    expect(page.locator("ul.checklist li").first).to_have_class("done")
    assert is_crisis_active(brand["organisation"])
