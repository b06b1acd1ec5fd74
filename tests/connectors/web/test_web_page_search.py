"""A web page watched for listening (moved from tests/listening/test_sources.py with the code): its
main text without navigation, brought again only when it changed; what is not HTML is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from platform_server import Answer, load_fixture

from palabre.connectors import web
from palabre.connectors.search import SearchMalformed

FIXTURES = Path(__file__).parent / "fixtures"


def test_web_page_main_text_without_navigation_and_only_when_it_changes(platform_server):
    platform_server.on(
        "GET", "/article", Answer(200, load_fixture(FIXTURES, "article.html"), {}, "text/html; charset=utf-8")
    )
    config = {"url": f"{platform_server.url}/article"}
    fetched = web.search(config, {})
    (page,) = fetched.candidates
    assert "rappel de ses lampes de chevet Aurore" in page.text
    assert "Abonnez-vous" not in page.text and "Mentions légales" not in page.text
    assert page.author == "Julie Bernard"
    assert web.search(config, fetched.cursor).candidates == []


def test_web_page_that_is_not_html(platform_server):
    platform_server.on("GET", "/file", Answer(200, b"\x00\x01", {}, "application/octet-stream"))
    with pytest.raises(SearchMalformed):
        web.search({"url": f"{platform_server.url}/file"}, {})
