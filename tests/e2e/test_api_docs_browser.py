"""/api/docs in a real browser with no internet: Swagger UI comes from the package and runs under
the Content-Security-Policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_the_api_docs_render_offline_under_the_policy(live_server, transactional_db, browser_page):
    page = browser_page
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None,
    )
    # No internet: any address outside the server is refused, as on an air-gapped install.
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(live_server.url) else route.abort(),
    )
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    response = page.goto(f"{live_server.url}/api/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Palabre API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert problems == []
