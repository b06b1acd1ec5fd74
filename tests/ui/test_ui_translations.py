"""The French catalogue is complete, compiled, and shown to people who choose French."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.urls import reverse

import palabre

PACKAGE = Path(palabre.__file__).resolve().parent
PO = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


@dataclass
class Entry:
    msgid: str
    plural: str | None
    strings: list[str]
    flags: set[str]
    line: int
    context: str | None = None


ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(chunks: list[str]) -> str:
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), "".join(chunks))


def parse_po(path: Path) -> list[Entry]:
    entries = []
    for block_start, block in _blocks(path.read_text(encoding="utf-8")):
        flags: set[str] = set()
        fields: dict[str, list[str]] = {}
        current = None
        for line in block:
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[current].append(line[1:-1])
            else:
                key, _space, rest = line.partition(" ")
                current = key
                fields[key] = [rest[1:-1]]
        if "msgid" not in fields:
            continue
        strings = [_unquote(v) for k, v in sorted(fields.items()) if k.startswith("msgstr")]
        plural = _unquote(fields["msgid_plural"]) if "msgid_plural" in fields else None
        context = _unquote(fields["msgctxt"]) if "msgctxt" in fields else None
        entries.append(Entry(_unquote(fields["msgid"]), plural, strings, flags, block_start, context))
    return entries


def _blocks(text: str):
    block: list[str] = []
    start = 1
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            if block:
                yield start, block
            block, start = [], number + 1
        else:
            block.append(line)
    if block:
        yield start, block


def problems(entries: list[Entry]) -> list[str]:
    found = []
    for entry in entries:
        if entry.msgid == "":
            if "fuzzy" in entry.flags:
                found.append("the header is marked fuzzy")
            continue
        where = f"line {entry.line}: {entry.msgid!r}"
        if "fuzzy" in entry.flags:
            found.append(f"fuzzy, {where}")
        if not entry.strings or any(not s for s in entry.strings):
            found.append(f"untranslated, {where}")
            continue
        wanted = set(PLACEHOLDER.findall(entry.msgid)) | set(PLACEHOLDER.findall(entry.plural or ""))
        for string in entry.strings:
            if set(PLACEHOLDER.findall(string)) - wanted:
                found.append(f"placeholders differ, {where}")
    return found


def test_every_french_entry_is_translated_and_none_is_fuzzy():
    entries = parse_po(PO)
    assert len(entries) > 100
    assert problems(entries) == []


def test_the_compiled_catalogue_matches_the_po_file():
    catalogue = gettext.GNUTranslations(MO.open("rb"))
    stale = []
    for entry in parse_po(PO):
        if not entry.msgid:
            continue
        if entry.context is not None:
            if catalogue.pgettext(entry.context, entry.msgid) != entry.strings[0]:
                stale.append(entry.msgid)
        elif entry.plural is None:
            if catalogue.gettext(entry.msgid) != entry.strings[0]:
                stale.append(entry.msgid)
        elif catalogue.ngettext(entry.msgid, entry.plural, 2) != entry.strings[1]:
            stale.append(entry.msgid)
    assert stale == [], "run compilemessages: the .mo is older than the .po"


@pytest.mark.skipif(
    not shutil.which("xgettext"), reason="needs GNU gettext (xgettext) to extract the messages"
)
def test_every_message_of_the_source_is_in_the_catalogue(tmp_path):
    """Extract the messages of the whole package again: any new one must be translated already."""
    copy = tmp_path / "palabre"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "fr",
            "--no-location",
            "--settings=palabre.settings",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    assert problems(parse_po(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po")) == []


def test_pages_are_in_french_for_a_person_who_chose_french(world, owner_client):
    owner_client.post(reverse("language"), {"language": "fr", "next": "/"})
    for name, expected in [
        ("home", "Accueil"),
        ("channels", "Connecter un canal"),
        ("members", "Anciens membres"),
        ("audit", "Journal d’audit"),
        ("tokens", "Créer un jeton"),
        ("permissions", "Approuver un compte personnel comme canal porte-parole"),
        ("conversations:items", "Toutes les langues"),
    ]:
        content = owner_client.get(reverse(name)).content.decode()
        assert '<html lang="fr">' in content
        assert expected in content, name


def test_service_errors_reach_the_form_in_french(world, owner_client):
    owner_client.post(reverse("language"), {"language": "fr", "next": "/"})
    response = owner_client.post(
        reverse("channel_create"), {"platform": "mastodon", "handle": "@dupont@piaille.fr", "name": "Doublon"}
    )
    assert "Cette organisation a déjà ce canal." in response.content.decode()


def test_french_entries_use_the_typographic_apostrophe():
    # French typography, as the rest of the catalogue: "Jetons d’API", not "Jetons d'API".
    straight = [
        f"line {entry.line}: {text}" for entry in parse_po(PO) for text in entry.strings if "'" in text
    ]
    assert straight == []


TEMPLATES = PACKAGE / "templates"
# A colon written in the template right after a translated string or a shown value: French wants a
# space before it (“Alerte ouverte : …”), which only the translation can give. The colon belongs in
# the message (`{% translate "Open alert:" %}`, `{% blocktranslate %}{{ label }}:{% endblocktranslate %}`).
COLON_OUTSIDE_THE_MESSAGE = re.compile(r"(%\}|\}\}):(\s|$)", re.MULTILINE)


def test_no_template_writes_a_colon_outside_its_message():
    found = [
        f"{path.relative_to(TEMPLATES)}:{text[: match.start()].count(chr(10)) + 1}"
        for path in sorted(TEMPLATES.rglob("*"))
        if path.suffix in {".html", ".txt"}
        for text in [path.read_text(encoding="utf-8")]
        for match in COLON_OUTSIDE_THE_MESSAGE.finditer(text)
    ]
    assert found == []


def test_french_puts_a_no_break_space_before_a_colon_it_adds():
    """Where an English message ends with a colon, the French one ends with a no-break space
    (U+00A0 or the narrow U+202F) and the colon: never a line that starts with the colon."""
    wrong = [
        f"line {entry.line}: {text!r}"
        for entry in parse_po(PO)
        if entry.msgid.endswith(":")
        for text in entry.strings
        if not text.endswith(("\xa0:", "\u202f:"))
    ]
    assert wrong == []
