"""Plain text from what platforms send (HTML statuses, feed entries, e-mail bodies)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

_BREAKS = re.compile(r"<\s*br\s*/?\s*>|<\s*/\s*(p|div|li|blockquote|h[1-6])\s*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_BLANKS = re.compile(r"[ \t\r\f\v]+")
_LINES = re.compile(r"\n{3,}")
_SCRIPTS = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def html_to_text(markup: str) -> str:
    """Readable text of an HTML fragment: paragraphs and line breaks kept, tags and entities gone."""
    if not markup:
        return ""
    text = _SCRIPTS.sub("", markup)
    text = _BREAKS.sub("\n", text)
    text = html.unescape(_TAGS.sub("", text))
    lines = [_BLANKS.sub(" ", line).strip() for line in text.split("\n")]
    return _LINES.sub("\n\n", "\n".join(lines)).strip()


def aware(value: datetime | None) -> datetime:
    """A platform's time with a time zone (UTC when it gave none); now when it gave nothing."""
    if value is None:
        return datetime.now(UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
