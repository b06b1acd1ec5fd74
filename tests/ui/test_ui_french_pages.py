"""No English in the French interface: every page each role reaches, rendered in French, shows no
sentence of the catalogue left in English (a msgid whose French differs, seen as it is)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_ui_links_by_role import crawl_pages
from test_ui_translations import parse_po

import palabre
from palabre.orgs.permissions import Role
from palabre.orgs.services import set_language

PO = Path(palabre.__file__).resolve().parent / "locale" / "fr" / "LC_MESSAGES" / "django.po"
# Raw codes and errors that once reached French pages ("Confiance: new", "neutral/negative",
# "[Errno -2] ..."): English words no French sentence holds.
RAW_CODES = re.compile(
    r"\b(?:neutral|negative|positive|trusted|watched|pending|published|rejected|approved|complaint"
    r"|praise|crisis|Errno|Traceback|None|True|False)\b"
)
# Phrases of two words or more, and single capitalised words of five letters or more (a heading
# such as "Drafts"); shorter ones ("Post", "Date") are French words or names too.
# English msgids that are French words as well, translated otherwise in one place.
FRENCH_TOO = {"Sources", "Messages", "Mentions", "Questions", "Actions", "Permissions", "Options"}
PHRASE = re.compile(r"^(?:[A-Z][a-z’']+(?: [a-z’'][a-z’']*)+|[A-Z][a-z]{4,})[.:]?$")


def english_phrases() -> set[str]:
    phrases = set()
    for entry in parse_po(PO):
        msgid = entry.msgid
        if not msgid or "%" in msgid or "{" in msgid or entry.plural is not None:
            continue
        if entry.strings[0] == msgid or not PHRASE.match(msgid) or msgid.rstrip(".:") in FRENCH_TOO:
            continue
        phrases.add(msgid.rstrip(".:"))
    return phrases


class _Text(HTMLParser):
    """The text a person sees: no script, style or template; attributes people read kept."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "template", "code", "pre", "textarea"}:
            self._hidden += 1
        for name, value in attrs:
            if name in {"title", "aria-label", "placeholder", "alt"} and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in {"script", "style", "template", "code", "pre", "textarea"} and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " \n ".join(" ".join(part.split()) for part in parser.parts if part.strip())


@pytest.mark.parametrize(
    "role", [Role.OWNER, Role.COMMUNITY_MANAGER, Role.MODERATOR, Role.AGENCY_GUEST], ids=str
)
def test_french_pages_show_no_english_sentence(world, login, role):
    set_language(user=world.users[role], language="fr")
    client = login(world.users[role])
    phrases = english_phrases()
    assert len(phrases) > 200
    pattern = re.compile(
        r"(?<![\w’'])(?:"
        + "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
        + r")(?![\w’'])"
    )
    leaks = {}
    for path, html in crawl_pages(client):
        text = visible_text(html)
        found = sorted(set(pattern.findall(text)) | set(RAW_CODES.findall(text)))
        if found:
            leaks[path] = found
    assert leaks == {}


def test_all_agrees_with_what_it_stands_for_in_french(world, login):
    set_language(user=world.users[Role.OWNER], language="fr")
    page = login(world.users[Role.OWNER]).get("/listening/mentions/").content.decode()
    for name in ("query", "source", "language"):
        select = page[page.index(f'name="{name}"') :]
        select = select[: select.index("</select>")]
        assert ">Toutes</option>" in select, name
    sentiment = page[page.index('name="sentiment"') :]
    assert ">Tous</option>" in sentiment[: sentiment.index("</select>")]


def test_french_punctuation_is_kept_with_its_word():
    """French typography: a narrow no-break space (or a no-break space) before : ; ? ! » and after
    «, never a space a line can break at."""
    breakable = re.compile(r"\S [:;?!»]|« ")
    wrong = [
        (entry.line, text)
        for entry in parse_po(PO)
        for text in entry.strings
        if breakable.search(text.replace("https://", "").replace("http://", ""))
    ]
    assert wrong == []
