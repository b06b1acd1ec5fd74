"""/api/docs works without internet: Swagger UI is served from the package, under the pages' policy."""

from __future__ import annotations

from html.parser import HTMLParser

from django.test import Client


class Resources(HTMLParser):
    """Every address the page loads (scripts, styles, icons, images) and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            if attributes.get("src"):
                self.addresses.append(attributes["src"])
            elif attributes.get("type") != "application/json":
                self.inline_scripts += 1
        elif tag == "link" and attributes.get("href"):
            self.addresses.append(attributes["href"])
        elif tag in ("img", "iframe") and attributes.get("src"):
            self.addresses.append(attributes["src"])


def test_the_api_docs_load_only_palabre_s_own_static_files(db):
    client = Client()
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = Resources()
    page.feed(response.content.decode())
    assert any(a.endswith("swagger-ui-bundle.js") for a in page.addresses), page.addresses
    assert any(a.endswith("swagger-ui.css") for a in page.addresses), page.addresses
    assert page.inline_scripts == 0
    for address in page.addresses:
        assert address.startswith("/static/"), address
        assert client.get(address).status_code == 200, address


def test_the_api_docs_carry_the_content_security_policy(db):
    response = Client().get("/api/docs")
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"], policy
    assert directives["default-src"] == ["'self'"], policy
