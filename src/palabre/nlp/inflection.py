"""The simple inflections of a French or English word, for word rules that should catch them.

A moderation rule written "escroc" must also catch "escrocs", and "voleur" must catch "voleuse" and
"voleurs". Listening already folds plurals to a key (:func:`palabre.nlp.query.singular`); a word
rule runs on the moderation lexicon, which matches surface words, so it needs the forms themselves.
They are built from the same folding: the written word is folded and brought to its singular with
``singular``, its feminine (or masculine) is derived from the usual endings, and each is given its
plurals. Only regular endings: "cheval"/"chevaux" yes, "œil"/"yeux" no.

Pure: no database, no Django.
"""

from __future__ import annotations

from functools import lru_cache

from palabre.nlp.normalize import fold
from palabre.nlp.query import singular

__all__ = ["word_forms"]

# Masculine ending -> feminine endings, and the way back. Longest endings first.
_FEMININE = (
    ("teur", ("trice", "teuse")),
    ("eur", ("euse", "eure")),
    ("ien", ("ienne",)),
    ("on", ("onne",)),
    ("en", ("enne",)),
    ("el", ("elle",)),
    ("et", ("ette",)),
    ("er", ("ere",)),
    ("eux", ("euse",)),
    ("if", ("ive",)),
    ("f", ("ve",)),
)
_MASCULINE = (
    ("trice", "teur"),
    ("teuse", "teur"),
    ("euse", "eur"),
    ("eure", "eur"),
    ("ienne", "ien"),
    ("onne", "on"),
    ("enne", "en"),
    ("elle", "el"),
    ("ette", "et"),
    ("ere", "er"),
    ("ive", "if"),
)
# A final -e after these letters is often the feminine mark (idiote, grande, lourde, brute).
_FEMININE_E_AFTER = frozenset("tdl")
_MIN_LENGTH = 3
# Shorter words only take their plurals: "con" must not become "cone".
_MIN_GENDERED = 5


def _singular_surface(word: str) -> str:
    """The singular as it is written (``singular`` answers a key: "chevau" for "chevaux")."""
    if word.endswith("aux") and len(word) > 4:
        return word[:-3] + "al"
    key = singular(word)
    if key != word and word.startswith(key) and len(word) == len(key) + 1:
        return key
    return word


def _plurals(word: str) -> set[str]:
    forms = {word}
    if word.endswith(("s", "x", "z")):
        return forms
    if word.endswith("al") and len(word) >= 4:
        forms.add(word[:-2] + "aux")
    if word.endswith(("au", "eu")):
        forms.add(word + "x")
    if word.endswith(("ch", "sh")):
        forms.add(word + "es")  # English: witches
    if word.endswith("y") and len(word) > 3 and word[-2] not in "aeiou":
        forms.add(word[:-1] + "ies")  # English: bullies
    forms.add(word + "s")
    return forms


def _genders(word: str) -> set[str]:
    forms = {word}
    for masculine, feminine in _MASCULINE:
        if word.endswith(masculine) and len(word) > len(masculine) + 1:
            forms.add(word[: -len(masculine)] + feminine)
            break
    else:
        if word.endswith("e") and len(word) > 4 and word[-2] in _FEMININE_E_AFTER:
            forms.add(word[:-1])
    for masculine, feminines in _FEMININE:
        if word.endswith(masculine) and len(word) > len(masculine) + 1:
            forms.update(word[: -len(masculine)] + f for f in feminines)
            break
    else:
        if not word.endswith("e"):
            forms.add(word + "e")
    return forms


@lru_cache(maxsize=4096)
def word_forms(word: str) -> frozenset[str]:
    """The folded word and its simple inflections: singular, plurals, feminine and masculine.
    A word shorter than three letters, or one that is not a single word, answers itself folded."""
    folded = fold(word.strip())
    if len(folded) < _MIN_LENGTH or not folded.isalpha():
        return frozenset({folded})
    base = _singular_surface(folded)
    forms: set[str] = {folded}
    for gendered in _genders(base) if len(base) >= _MIN_GENDERED else {base}:
        forms |= _plurals(gendered)
    return frozenset(f for f in forms if len(f) >= _MIN_LENGTH)
