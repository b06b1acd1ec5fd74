"""The words of a post as the guardrails read them: URLs, emoji, hashtags split into their words, and the lexicons of sensitive terms (shipped and the organisation's own)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from palabre.nlp.normalize import fold

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicons"


# --- text pieces ------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
_HASHTAG = re.compile(r"(?<![\w&])#([^\W_][\w]*)")
_TOKEN_OR_TAG = re.compile(r"(?<![\w&])#([^\W_][\w]*)|[^\W_]+")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}|[\U0001f300-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff]"
    "[\ufe0f\U0001f3fb-\U0001f3ff]?(?:\u200d[\U0001f300-\U0001faff\u2600-\u27bf][\ufe0f]?)*"
)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_FF = re.compile(r"(?i)(?<![\w&])#(?:ff|followfriday|fridayfollow|suivezvendredi|vendredisuivez)\b")


@dataclass(frozen=True)
class _Token:
    folded: str
    start: int
    end: int
    in_hashtag: bool = False
    glued_unknown: bool = False  # part of a one-case hashtag with unknown pieces


# --- lexicons ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    tokens: tuple[tuple[str, bool], ...]  # (folded word, is prefix)
    category: str
    term: str

    @property
    def letters(self) -> int:
        return sum(len(t) for t, _prefix in self.tokens)


class TermLexicon:
    """Whole-word phrase matcher on folded tokens; `word*` matches any ending."""

    def __init__(self, entries: Iterable[tuple[str, str]]):
        self.by_first: dict[str, list[_Term]] = {}
        self.prefixes: list[_Term] = []
        self.words: set[str] = set()
        for category, entry in entries:
            words = [w for w in re.split(r"[^\w*]+", fold(entry)) if w]
            tokens = [(w.rstrip("*"), w.endswith("*")) for w in words if w.rstrip("*")]
            if not tokens:
                continue
            term = _Term(tuple(tokens), category, entry)
            self.words.update(t for t, _prefix in tokens)
            if tokens[0][1]:
                self.prefixes.append(term)
            else:
                self.by_first.setdefault(tokens[0][0], []).append(term)

    def candidates(self, word: str) -> list[_Term]:
        found = list(self.by_first.get(word, ()))
        found += [t for t in self.prefixes if word.startswith(t.tokens[0][0])]
        return found

    def match(self, tokens: Sequence[_Token]) -> list[tuple[_Term, int, int]]:
        """(term, first token index, last token index + 1) for every hit."""
        hits = []
        for i, token in enumerate(tokens):
            for term in self.candidates(token.folded):
                n = len(term.tokens)
                if i + n > len(tokens):
                    continue
                if all(
                    (tokens[i + j].folded.startswith(w) if prefix else tokens[i + j].folded == w)
                    for j, (w, prefix) in enumerate(term.tokens)
                ):
                    hits.append((term, i, i + n))
        return hits


def _read_tsv(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, _tab, entry = line.partition("\t")
        if entry.strip():
            rows.append((category.strip(), entry.strip()))
    return rows


_lock = threading.Lock()


@lru_cache(maxsize=1)
def sensitive_lexicon() -> TermLexicon:
    with _lock:
        return TermLexicon(_read_tsv(LEXICON_DIR / "sensitive.tsv"))


@lru_cache(maxsize=1)
def segmentation_vocabulary() -> frozenset[str]:
    words: set[str] = set()
    for line in (LEXICON_DIR / "words.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        words.update(_WORD.findall(fold(line)))
    words.update(w for w in sensitive_lexicon().words if len(w) >= 2)
    return frozenset(words)


@lru_cache(maxsize=256)
def _organisation_lexicon(terms: tuple[str, ...], category: str) -> TermLexicon:
    return TermLexicon((category, t) for t in terms if t.strip())


# --- tokens, with hashtags split into words ----------------------------------------------------


def segment(glued: str, vocabulary: frozenset[str]) -> list[tuple[str, bool]]:
    """Split a one-case run of letters into known words: [(piece, known)], most letters covered by
    known words, then fewest pieces. Unknown letters are grouped into one piece."""
    n = len(glued)
    longest = 24
    # best[i] = (cost, pieces) for glued[:i]; a known word costs 1, an unknown letter 3.
    best: list[tuple[int, list[tuple[str, bool]]] | None] = [None] * (n + 1)
    best[0] = (0, [])
    for i in range(n):
        if best[i] is None:
            continue
        cost, pieces = best[i]
        for j in range(i + 1, min(n, i + longest) + 1):
            piece = glued[i:j]
            if (len(piece) >= 2 or piece in {"a", "à", "y"}) and piece in vocabulary:
                candidate = (cost + 1, [*pieces, (piece, True)])
                if best[j] is None or candidate[0] < best[j][0]:
                    best[j] = candidate
        if pieces and not pieces[-1][1]:
            merged = [*pieces[:-1], (pieces[-1][0] + glued[i], False)]
        else:
            merged = [*pieces, (glued[i], False)]
        candidate = (cost + 3, merged)
        if best[i + 1] is None or candidate[0] < best[i + 1][0]:
            best[i + 1] = candidate
    return best[n][1] if best[n] else [(glued, False)]


def hashtag_words(tag: str) -> tuple[list[str], bool]:
    """The words of a hashtag (without #), folded, and whether some piece is unknown.

    #IranElection and #AttentatParis split on case; #attentatparis through the vocabulary."""
    parts = _CAMEL.findall(tag)
    if len(parts) > 1 and any(p[0].isupper() for p in parts[1:]):
        return [fold(p) for p in parts], False
    words: list[str] = []
    unknown = False
    for chunk in re.findall(r"[^\W\d_]+|\d+", fold(tag)):
        if chunk.isdigit():
            words.append(chunk)
            continue
        for piece, known in segment(chunk, segmentation_vocabulary()):
            words.append(piece)
            unknown = unknown or not known
    return words, unknown


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN_OR_TAG.finditer(text):
        tag = match.group(1)
        if tag is None:
            tokens.append(_Token(fold(match.group(0)), match.start(), match.end()))
            continue
        words, unknown = hashtag_words(tag)
        whole = fold(tag)
        if words != [whole]:
            # The glued form as well, for entries such as "jesuischarlie".
            tokens.append(_Token(whole, match.start(), match.end(), True, False))
        tokens.extend(_Token(w, match.start(), match.end(), True, unknown) for w in words)
    return tokens


def _span_of(tokens: Sequence[_Token], first: int, last: int) -> tuple[int, int]:
    return tokens[first].start, tokens[last - 1].end
