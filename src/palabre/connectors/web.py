"""Web pages, for listening: a page's main text (trafilatura leaves navigation, menus and footers
out), brought again only when it changed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from palabre.connectors import search as searching
from palabre.connectors.search import Candidate, SearchMalformed, SearchPage
from palabre.connectors.text import aware


def _date(value) -> datetime | None:
    if isinstance(value, datetime):
        return aware(value)
    if isinstance(value, str) and value:
        try:
            return aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def extract_page(html: str, url: str) -> tuple[str, str, datetime | None, str]:
    """(title, main text, date, author) of a page: navigation, menus and footers left out."""
    import trafilatura

    document = trafilatura.bare_extraction(html, url=url, include_comments=False, with_metadata=True)
    if document is None:
        return "", "", None, ""
    data = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    return data.get("title") or "", data.get("text") or "", _date(data.get("date")), data.get("author") or ""


def search(config: dict, cursor: dict) -> SearchPage:
    """The page as one candidate, when its main text differs from the cursor's digest."""
    url = config["url"]
    response = searching.get(url)
    content_type = response.headers.get("content-type", "")
    if "html" not in content_type and "xml" not in content_type:
        raise SearchMalformed(_("Not an HTML page (%(type)s).") % {"type": content_type or "?"})
    title, text, date, author = extract_page(response.text, url)
    if not text:
        raise SearchMalformed(_("No main text found on the page."))
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    if cursor.get("digest") == digest:
        return SearchPage([], cursor)
    candidate = Candidate(
        external_id=f"{url}#{digest}"[:500],
        text="\n\n".join(part for part in (title, text) if part),
        published_at=date or datetime.now(UTC),
        url=url,
        author=author,
        author_name=author,
        domain=(urlsplit(url).hostname or "").removeprefix("www."),
    )
    return SearchPage([candidate], {"digest": digest})
