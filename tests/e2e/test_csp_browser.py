"""The Content-Security-Policy in a real browser: the pages and their scripts (htmx, the
shortcuts, the calendar) run without one violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

PASSWORD = "Palabre-e2e-2024!"

pytestmark = pytest.mark.e2e

PAGES = [
    "/",
    "/inbox/",
    "/conversations/",
    "/moderation/",
    "/listening/",
    "/publishing/",
    "/channels/",
    "/members/",
    "/audit/",
    "/account/password/",
]


@pytest.fixture
def brand(transactional_db):
    from django.contrib.auth import get_user_model

    from palabre.orgs import services

    owner = get_user_model().objects.create_user("camille", password=PASSWORD)
    return services.create_organisation(name="Maison Dupont", owner=owner)


def test_no_page_breaks_the_content_security_policy(live_server, brand, browser_page, sign_in):
    page = browser_page
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    sign_in(page, live_server.url, "camille", PASSWORD)
    expect(page.locator("h1")).to_have_text("Maison Dupont")
    for path in PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
        assert page.evaluate("typeof htmx") == "object", path  # the vendored script ran
    assert violations == []
