"""The words of French and English that every app reads alike: one stop-word list per language
(data files in `lexicons/`), one French elision rule (l', d', qu', jusqu'...), and the content
words of a text that the inbox compares (case and accents folded, elisions cut, stop words dropped,
plurals reduced)."""

from __future__ import annotations

import re
from pathlib import Path

from palabre.nlp.normalize import fold

_LEXICONS = Path(__file__).with_name("lexicons")


def _read_words(name: str) -> frozenset[str]:
    text = (_LEXICONS / name).read_text(encoding="utf-8")
    return frozenset(word for line in text.splitlines() if not line.startswith("#") for word in line.split())


# Folded (lower case, no accents), as `palabre.nlp.normalize.fold` leaves a text.
STOP_WORDS_FR = _read_words("stopwords_fr.txt")
STOP_WORDS_EN = _read_words("stopwords_en.txt")
STOP_WORDS = STOP_WORDS_FR | STOP_WORDS_EN
# Counts, durations and answers: kept by the inbox's comparison, never what a trend is about.
NOT_TRENDS = _read_words("not_trends.txt")

# The apostrophes people type (straight, typographic, modifier letter, opening quote).
APOSTROPHES = "'’ʼ‘"
# French elided words, longest first so that "jusqu'" is not read as "j'" (a regex alternation).
ELIDED = r"jusqu|lorsqu|puisqu|quoiqu|presqu|qu|[ldjmnstc]"
_LEADING_ELISION = re.compile(rf"^(?:{ELIDED})[{APOSTROPHES}]", re.IGNORECASE)


def cut_elision(word: str) -> str:
    """The word without its elided article or pronoun: "l'avion" -> "avion", "qu'il" -> "il"."""
    return _LEADING_ELISION.sub("", word)


_CONTENT_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z0-9]+)?")


def words(text: str) -> list[str]:
    """Content words of a text, normalised (French elisions and plurals handled)."""
    found = []
    for token in _CONTENT_WORD.findall(fold(text).lower()):
        token = cut_elision(token)
        if len(token) < 3 or token in STOP_WORDS or token.isdigit() and len(token) < 4:
            continue
        found.append(stem(token))
    return found


def stem(word: str) -> str:
    """A light stem: enough for "commandes" to meet "commande", "livraisons" "livraison"."""
    if len(word) > 4 and word.endswith(("s", "x")):
        word = word[:-1]
    if len(word) > 5 and word.endswith("e"):
        word = word[:-1]
    return word


def analyzer(text: str) -> list[str]:
    """Words and word pairs, for TF-IDF."""
    tokens = words(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
