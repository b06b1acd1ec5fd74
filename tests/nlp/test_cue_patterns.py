"""The shipped cue lists run on RE2 where it answers as Python's ``re`` does: the answers are those of
``re`` on every text, ASCII or not, with or without lookarounds."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from palabre.nlp import intent
from palabre.nlp.lexicon.entries import load_lexicon
from palabre.nlp.normalize import normalize
from palabre.nlp.patterns import CuePattern, without_lookarounds

DATA = Path(__file__).resolve().parent.parent / "data"


def _shipped_patterns() -> list[tuple[str, CuePattern]]:
    found = [(name, value) for name, value in vars(intent).items() if isinstance(value, CuePattern)]
    for lexicon in ("moderation", "sentiment", "context", "context_counter", "context_reference"):
        found += [
            (f"{lexicon}:{category}:{source}", p) for category, source, p in load_lexicon(lexicon)._regexes
        ]
    return found


def _texts() -> list[str]:
    """Brand messages, the cue phrases themselves (so that every list matches somewhere), and a few
    that hold characters beyond ASCII."""
    with (DATA / "intent_fr.csv").open(encoding="utf-8") as handle:
        messages = [row["text"] for row in csv.DictReader(handle)]
    phrases = [
        "je vais te tuer demain",
        "tu vas payer les frais de port",
        "tu vas le payer cher",
        "vous etes des retardes",
        "vous etes retarde de deux jours",
        "les immigres ne sont pas des voleurs",
        "these people are not animals",
        "merci d avance pour votre reponse",
        "merci beaucoup, super service",
        "super decu par la livraison",
        "c est mortel ce concert, mort de rire",
        "suivi sur https://www.laposte.fr/outils/suivre-vos-envois?code=6A123",
        "crevez tous",
        "mais le colis n est jamais arrive",
        "café ok 😀 мир ok",
    ]
    return [normalize(text).text for text in messages + phrases]


def test_every_shipped_pattern_answers_as_pythons_re():
    texts = _texts()
    assert sum(text.isascii() for text in texts) > 300
    patterns = _shipped_patterns()
    assert any(p.runs_on_re2 for _, p in patterns) and not all(p.runs_on_re2 for _, p in patterns)
    matched = 0
    for name, pattern in patterns:
        python = re.compile(pattern.pattern)
        for text in texts:
            expected = [m.span() for m in python.finditer(text)]
            assert [m.span() for m in pattern.finditer(text)] == expected, (name, text)
            assert pattern.findall(text) == python.findall(text), (name, text)
            assert (pattern.search(text) is None) == (python.search(text) is None), (name, text)
            assert pattern.sub(" ", text) == python.sub(" ", text), (name, text)
            matched += bool(expected)
    assert matched > 200


def test_a_text_beyond_ascii_is_read_by_pythons_re():
    """RE2's word boundary is ASCII: it sees one between "é" and "ok", Python's does not."""
    pattern = CuePattern(r"\bok\b")
    assert pattern.runs_on_re2
    assert pattern.findall("ok") == ["ok"]
    assert pattern.findall("éok") == []
    assert pattern.findall("é ok") == ["ok"]


@pytest.mark.parametrize(
    ("pattern", "loose"),
    [
        (r"merci(?! d avance)(?! pour rien)", "merci"),
        (r"\b(?<!.)(?:creve|crevez)\W*$", r"\b(?:creve|crevez)\W*$"),
        (r"payer(?! (?:les|la|[)(])\b) x", "payer x"),
        (r"a\(?=b\)", r"a\(?=b\)"),  # escaped: no lookahead
        (r"[(?!]x", r"[(?!]x"),  # in a class: no lookahead
        (r"x(?=[)])y", "xy"),
    ],
)
def test_lookarounds_are_left_out_and_nothing_else(pattern, loose):
    assert without_lookarounds(pattern) == loose


def test_a_pattern_with_a_lookahead_matches_as_pythons_re():
    pattern = CuePattern(r"\bmerci(?: beaucoup)?(?! d avance)")
    assert not pattern.runs_on_re2
    assert pattern.findall("merci beaucoup") == ["merci beaucoup"]
    assert pattern.findall("merci d avance") == []
    assert pattern.findall("bonjour") == []
    assert pattern.sub("_", "non merci d avance, merci") == "non merci d avance, _"
