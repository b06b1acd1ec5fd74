"""Normalisation of text as people write it to dodge filters.

The normalised form is what lexicons and classifiers read; every character of it keeps
the index of the original character it came from, so a match found in the normalised
text can be highlighted in what the person actually typed.

Steps, in order:
1. per character: control and format characters (zero-width, soft hyphen, bidi marks)
   and lone surrogates dropped, whitespace made a single space, case folded,
   compatibility forms and accents folded (NFKD without combining marks), skin-tone
   modifiers and variation selectors dropped, Cyrillic/Greek look-alikes made Latin
   when the text is mostly Latin;
2. letters spaced or dotted one by one joined (``c o n n a r d``, ``c.o.n``);
3. leetspeak inside words (``c0nn4rd``, ``$alope``), leaving numbers, prices, times,
   ordinals, mentions, URLs and e-mail addresses alone;
4. runs of three or more identical letters cut to two (``connnnard`` -> ``connard``).

Emoji are kept, one token per pictograph (joiners and modifiers dropped), so that
classifiers may read them. Offsets are Python string indices (code points).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["NormalizedText", "normalize", "fold"]

# Look-alikes that NFKD does not fold. Applied only when the text is mostly Latin, so
# genuine Russian or Greek text is left as written.
_HOMOGLYPHS = {
    # Cyrillic (lower case; upper case is folded first)
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "һ": "h",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "ү": "y",
    "ɡ": "g",
    "ո": "n",
    "ѡ": "w",
    "ᴠ": "v",
    "з": "3",
    "п": "n",
    "г": "r",
    "ь": "b",
    "л": "n",
    "и": "u",
    # Greek
    "α": "a",
    "β": "b",
    "γ": "y",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    "ς": "c",
    "σ": "o",
    "μ": "u",
    "δ": "d",
    "λ": "l",
    "ϲ": "c",
    "ϳ": "j",
}
# Latin letters that NFKD leaves whole.
_LATIN_EXTRA = {
    "œ": "oe",
    "æ": "ae",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ı": "i",
    "ŀ": "l",
    "ħ": "h",
    "ƒ": "f",
    "ß": "ss",
    "ſ": "s",
    "ɑ": "a",
    "ɩ": "i",
}
_SPACES = {"\t", "\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x1f", "\x85"}

# Kinds returned by _fold_char.
_DROP, _PLAIN, _SPACE, _CONFUSABLE, _FOREIGN = 0, 1, 2, 3, 4


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> tuple[str, int, str]:
    """Fold one code point: (folded, kind, latin look-alike for confusables)."""
    if ch in _SPACES or ch.isspace():
        return " ", _SPACE, ""
    cat = unicodedata.category(ch)
    # Controls, zero-width and bidi marks, surrogates, private use, unassigned, combining
    # marks (accents typed separately), skin-tone modifiers and spacing accents (`^¨)
    # carry nothing; other modifier symbols (Sk) are kept.
    droppable = cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me") or (
        cat == "Sk" and ("\U0001f3fb" <= ch <= "\U0001f3ff" or ch in "`^¨´¸˜")
    )
    if droppable and not ch.isalnum():
        return "", _DROP, ""
    low = ch.lower()
    if low in _LATIN_EXTRA:
        return _LATIN_EXTRA[low], _PLAIN, ""
    decomposed = unicodedata.normalize("NFKD", low)
    out = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    if not out and decomposed:
        return "", _DROP, ""
    if len(out) == 1 and out in _HOMOGLYPHS:
        return out, _CONFUSABLE, _HOMOGLYPHS[out]
    if out and out[0].isalpha() and not out.isascii():
        name = unicodedata.name(out[0], "")
        if name.startswith(("CYRILLIC", "GREEK")):
            return out, _FOREIGN, ""
    return out, _PLAIN, ""


def fold(text: str) -> str:
    """Case and accent folding only, for lexicon entries and queries."""
    return "".join(_fold_char(c)[0] for c in text)


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A normalised text and, per character, the index of its source in ``original``."""

    original: str
    text: str
    index: tuple[int, ...] = field(repr=False)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span [start, end) of ``text`` to the span of ``original`` it came from."""
        n = len(self.text)
        start = max(0, min(start, n))
        end = max(start, min(end, n))
        if start == end:
            pos = self.index[start] if start < n else len(self.original)
            return pos, pos
        return self.index[start], self.index[end - 1] + 1

    def original_slice(self, start: int, end: int) -> str:
        a, b = self.to_original(start, end)
        return self.original[a:b]


# Step 2: single letters (or leet characters) separated by one repeated separator.
_SPACED = re.compile(
    r"(?<![^\W_])([a-z0-9@$€!])((?:\s|[.\-_*·/+~|,]))(?:[a-z0-9@$€!]\2){1,}[a-z0-9@$€!](?![^\W_])"
)
_PRICE = re.compile(r"\d\s?[€$]|[€$]\s?\d")
# Step 3: word-like tokens that may hide leetspeak.
# Only tokens holding a digit or symbol can hide leetspeak; anchored at token starts so a long
# run of letters is scanned once.
_TOKEN = re.compile(r"(?<![a-z0-9@$€!|])[a-z]*+[0-9@$€!|][a-z0-9@$€!|]*+")
# Anchored at token starts with possessive runs, so a 100k-letter "word" stays linear.
_URLISH = re.compile(
    r"(?:https?://|www\.)\S+|(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]+)+"
    r"|(?<![\w-])[\w-]++\.(?:com|fr|net|org|io|be|ch|ly|co|me|info|biz|xyz)\b\S*"
)
_LEET = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "@": "a",
    "$": "s",
    "€": "e",
    "!": "i",
    "|": "l",
}
# Numbers that are really numbers: 10h30, 2eme, 1er, 3x, 4k, 20cm, 1e, 12h.
_NUMERIC = re.compile(r"\d+(?:[a-z]{1,3}\d*)?|\d+(?:eme|ere|ieme|er)s?")
# Step 4: letter runs of three or more.
_ELONGATED = re.compile(r"([a-z])\1{2,}")


def _rewrite(text: str, index: list[int], pattern: re.Pattern[str], repl, spans=None):
    """Apply ``repl`` to every match; ``repl`` returns (new text, positions in match) or None."""
    out: list[str] = []
    out_index: list[int] = []
    last = 0
    changed = False
    for m in pattern.finditer(text):
        if spans and any(a < m.end() and m.start() < b for a, b in spans):
            continue
        r = repl(m)
        if r is None:
            continue
        new, positions = r
        s = m.start()
        out.append(text[last:s])
        out_index.extend(index[last:s])
        out.append(new)
        out_index.extend(index[s + p] for p in positions)
        last = m.end()
        changed = True
    if not changed:
        return text, index
    out.append(text[last:])
    out_index.extend(index[last:])
    return "".join(out), out_index


def _join_spaced(m: re.Match[str]):
    chunk = m.group(0)
    sep = m.group(2)
    if not any(c.isalpha() for c in chunk):
        return None  # "1 2 3", "1.5.3": numbers, not a hidden word
    if _PRICE.search(chunk):
        return None  # "5 € n'apparaît pas": a price before a word, not "sen"
    positions = [i for i, c in enumerate(chunk) if i % (1 + len(sep)) == 0]
    return "".join(chunk[i] for i in positions), positions


def _unleet(m: re.Match[str]):
    tok = m.group(0)
    # Punctuation around a word is not leet: "connard!!", "|x|".
    lead = len(tok) - len(tok.lstrip("!|"))
    core = tok[lead:].rstrip("!|")
    if len(core) < 2 or core[0] == "@":
        return None  # too short, or a mention
    has_alpha = any("a" <= c <= "z" for c in core)
    if not has_alpha or core.isalpha() or _NUMERIC.fullmatch(core):
        return None
    # Trailing digits are usually a number (mp3, covid19, user123); one trailing
    # leet digit after a long word is not (salop3).
    stripped = core.rstrip("0123456789")
    if stripped != core:
        tail = core[len(stripped) :]
        inner_leet = any(c in _LEET for c in stripped)
        if not inner_leet and not (len(tail) == 1 and len(stripped) >= 4):
            return None
    new = "".join(_LEET.get(c, c) for c in core)
    if new == core:
        return None
    s = tok[:lead] + new + tok[lead + len(core) :]
    return s, list(range(len(tok)))


def _shorten(m: re.Match[str]):
    return m.group(1) * 2, [0, 1]


# The pipeline's stages read the same texts: the classifiers' features, the intent cues, the
# fingerprints of marked messages, the context of flagged words. A text's normalisation is kept
# for the next stage: the last 1,024 texts (a batch's, twice over) of at most 1,000 characters, so
# that memory stays bounded (each character keeps the offset of its source).
RECENT_TEXTS = 1024
RECENT_MAX_CHARS = 1000


def normalize(text: str) -> NormalizedText:
    """Normalise ``text`` for matching; never raises on any ``str`` (or bytes)."""
    if type(text) is str and len(text) <= RECENT_MAX_CHARS:
        return _recent(text)
    return _normalize(text)


def _normalize(text: str) -> NormalizedText:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        text = "" if text is None else str(text)
    if not text:
        return NormalizedText(text, "", ())

    norm, index = _fold_plain(text)
    if norm is None:
        norm, index = _fold_any(text)

    if not norm.isalpha():
        protected = [m.span() for m in _URLISH.finditer(norm)] if ("." in norm or "@" in norm) else None
        norm, index = _rewrite(norm, index, _SPACED, _join_spaced, protected)
        if protected:
            protected = [m.span() for m in _URLISH.finditer(norm)]
        norm, index = _rewrite(norm, index, _TOKEN, _unleet, protected)
        if protected:
            protected = [m.span() for m in _URLISH.finditer(norm)]
    else:
        protected = None
    norm, index = _rewrite(norm, index, _ELONGATED, _shorten, protected)
    return NormalizedText(text, norm, tuple(index))


class _PlainFolds(dict):
    """``str.translate`` table of the code points that fold to one character, one for one (a
    letter, a digit, an accented letter), or to a space (any space). Any other code point (dropped,
    expanded like "ß", a look-alike, a foreign letter) maps to NUL, which sends the text the slow
    way. Filled as code points are met, and bounded: odd input cannot grow it."""

    def __missing__(self, code: int) -> str:
        out, kind, _ = _fold_char(chr(code))
        # A sign that folds to a space ("¯") is kept as a character, not collapsed as a space.
        one_for_one = kind == _PLAIN and len(out) == 1 and not out.isspace()
        plain = " " if kind == _SPACE else out if one_for_one else "\0"
        if len(self) < 8192:
            self[code] = plain
        return plain


_PLAIN_FOLDS = _PlainFolds()


def _fold_plain(text: str) -> tuple[str | None, range | list[int]]:
    """The folded text where every character folds one for one (most texts), spaces collapsed and
    trimmed as :func:`_fold_any` does, with each character's source offset; otherwise None."""
    folded = text.translate(_PLAIN_FOLDS)
    if "\0" in folded:
        return None, range(0)
    inner = folded.strip(" ")
    lead = len(folded) - len(folded.lstrip(" "))
    if "  " not in inner:
        return inner, range(lead, lead + len(inner))
    parts: list[str] = []
    index: list[int] = []
    kept = 0  # the first space of each run stays
    for run in _SPACE_RUN.finditer(inner):
        parts.append(inner[kept : run.start() + 1])
        index.extend(range(lead + kept, lead + run.start() + 1))
        kept = run.end()
    parts.append(inner[kept:])
    index.extend(range(lead + kept, lead + len(inner)))
    return "".join(parts), index


_SPACE_RUN = re.compile(" {2,}")


def _fold_any(text: str) -> tuple[str, list[int]]:
    """Fold every character (:func:`_fold_char`): spaces collapsed, look-alikes read as the Latin
    letters they imitate in a mostly Latin text; with each character's source offset."""
    chars: list[str] = []
    index: list[int] = []
    confusable_at: list[tuple[int, str]] = []
    latin = foreign = 0
    prev_space = True
    for i, ch in enumerate(text):
        out, kind, lookalike = _fold_char(ch)
        if kind == _DROP:
            continue
        if kind == _SPACE:
            if not prev_space:
                chars.append(" ")
                index.append(i)
                prev_space = True
            continue
        prev_space = False
        if kind == _CONFUSABLE:
            foreign += 1
            confusable_at.append((len(chars), lookalike))
        elif kind == _FOREIGN:
            foreign += 1
        elif "a" <= out[0] <= "z":
            latin += 1
        for c in out:
            chars.append(c)
            index.append(i)
    if chars and chars[-1] == " ":
        chars.pop()
        index.pop()
    if confusable_at and latin >= foreign:
        for pos, lookalike in confusable_at:
            chars[pos] = lookalike
    return "".join(chars), index


# NormalizedText is immutable: the one kept is the one computed again.
_recent = lru_cache(maxsize=RECENT_TEXTS)(_normalize)
