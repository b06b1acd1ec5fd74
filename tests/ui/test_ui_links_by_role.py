"""No link leads a role to a page it may not open: for each role, crawl the pages it can reach
from the home page, following every internal link, and none answers 403 (or fails)."""

from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest

from palabre.orgs.permissions import Role

# Pages that do something on GET or are not pages: never followed.
SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/media/", "/logout", "/accounts/logout", "/i18n/")
SKIP_SUFFIXES = (".csv", ".pdf", ".json", ".ics", ".xml")
MOST_PAGES = 120


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _internal(href: str) -> str | None:
    href, _fragment = urldefrag(href)
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if parts.path.startswith(SKIP_PREFIXES) or parts.path.endswith(SKIP_SUFFIXES):
        return None
    return parts.path


def _walk(client):
    """(path, response, the page that links to it) for every page reachable from "/" (by path,
    query strings aside)."""
    queue = deque([("/", "(start)")])
    queued = {"/"}
    visited = 0
    while queue and visited < MOST_PAGES:
        path, source = queue.popleft()
        response = client.get(path)
        visited += 1
        yield path, response, source
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(response.content.decode())
        for href in parser.hrefs:
            target = _internal(href)
            if target and target not in queued:
                queued.add(target)
                queue.append((target, path))


def crawl(client) -> dict[str, tuple[int, str]]:
    """Every page reachable from "/": its status and a page that links to it."""
    return {path: (response.status_code, source) for path, response, source in _walk(client)}


def crawl_pages(client) -> list[tuple[str, str]]:
    """(path, HTML) of every page reachable from "/" that answers 200 with HTML."""
    return [
        (path, response.content.decode())
        for path, response, _source in _walk(client)
        if response.status_code == 200 and "text/html" in response.get("Content-Type", "")
    ]


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_no_link_leads_a_role_to_a_page_it_may_not_open(world, login, role):
    client = login(world.users[role])
    client.raise_request_exception = False  # a failing page is reported with the others
    pages = crawl(client)
    assert len(pages) > 3
    refused = {path: source for path, (status, source) in pages.items() if status == 403 or status >= 500}
    assert refused == {}, f"{role}: pages refused (page: linked from)"
