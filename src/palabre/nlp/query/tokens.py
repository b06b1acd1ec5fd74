"""Tokens of a text as the query language reads it: words (accents and case kept for display, folded for matching), hashtags, mentions, elided articles dropped, singular forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from palabre.nlp.normalize import fold
from palabre.nlp.terms import APOSTROPHES, ELIDED

_APOSTROPHES = APOSTROPHES
_ELISIONS = ELIDED
_LETTER = r"[^\W_]"
_MARK = r"[\u0300-\u036f]"  # combining accents typed separately (NFD text)
# Unrolled (letters, then marks and letters) so the common case is one character class.
_WORD = rf"{_LETTER}+(?:{_MARK}+{_LETTER}*)*"
# One pattern without groups, so that ``findall`` gives plain strings: an elided article
# (ends with an apostrophe, dropped), a hashtag, a mention (also fediverse ``@user@host``), a word.
# Each special case starts with a lookahead on its first character, so that most positions fail
# it at once: the pattern costs about 1.6 times a plain word pattern.
TOKEN_PATTERN = re.compile(
    rf"(?=[ldjmnstcqpLDJMNSTCQP])(?<!{_LETTER})(?i:{_ELISIONS})[{_APOSTROPHES}](?={_LETTER})"
    rf"|(?=[#＃])(?<![\w#＃])[#＃]{_LETTER}\w*(?:{_MARK}+\w*)*"
    rf"|(?=@)(?<![\w.@])@{_LETTER}(?:[\w.\-]*\w)?(?:@\w(?:[\w.\-]*\w)?)?"
    rf"|{_WORD}"
)

WORD, HASHTAG, MENTION, PREFIX = "word", "hashtag", "mention", "prefix"

# Words that end in -s or -x in the singular and would otherwise fall onto another word.
_INVARIABLE = frozenset(
    [
        "mais",
        "cours",
        "fils",
        "sens",
        "pays",
        "temps",
        "corps",
        "avis",
        "fois",
        "prix",
        "choix",
        "voix",
        "paix",
        "croix",
        "bras",
        "dos",
        "repas",
        "tapis",
        "souris",
        "jamais",
        "toujours",
        "alors",
        "depuis",
        "dans",
        "sous",
        "sans",
        "vers",
        "chez",
        "plus",
        "moins",
        "tres",
        "apres",
        "aupres",
        "parmi",
        "deux",
        "trois",
        "news",
        "always",
        "series",
        "species",
        "this",
        "thus",
        "perhaps",
        "across",
    ]
)


@lru_cache(maxsize=65536)
def singular(word: str) -> str:
    """The key a folded word is matched on: -s/-x plurals dropped, -al/-aux brought together."""
    if len(word) > 3 and word not in _INVARIABLE:
        last = word[-1]
        if (last == "s" and word[-2] != "s") or (last == "x" and word[-2] == "u"):
            word = word[:-1]
    if len(word) >= 4 and word.endswith("al"):
        word = word[:-2] + "au"
    return word


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a text: ``start``/``end`` index the original text."""

    start: int
    end: int
    raw: str


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a token offers to terms: its kind, its folded body and the keys it matches."""

    kind: str  # WORD, HASHTAG or MENTION
    body: str  # folded, without # or @: what prefixes are tried on
    word: str  # the key a word term matches ("" when none)
    tag: str  # "#body" for hashtags, "" otherwise
    mentions: tuple[str, ...]  # "@body" (and "@user" of "@user@host") for mentions


@lru_cache(maxsize=65536)
def describe_token(raw: str) -> TokenInfo | None:
    """Fold one raw token (as found by :data:`TOKEN_PATTERN`); None for an elided article."""
    first = raw[0]
    if raw[-1] in _APOSTROPHES:
        return None
    if first in "#＃":
        body = fold(raw[1:])
        return TokenInfo(HASHTAG, body, singular(body), "#" + body, ())
    if first == "@":
        body = fold(raw[1:])
        user = body.split("@", 1)[0]
        mentions = ("@" + body,) if user == body else ("@" + body, "@" + user)
        return TokenInfo(MENTION, body, singular(user), "", mentions)
    body = fold(raw)
    return TokenInfo(WORD, body, singular(body), "", ())


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` that terms can match, elided articles left out."""
    return [
        Token(m.start(), m.end(), m.group())
        for m in TOKEN_PATTERN.finditer(text)
        if m.group()[-1] not in _APOSTROPHES
    ]
