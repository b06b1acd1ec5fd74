"""The shipped lexicons and an organisation's word lists: entries read from the files, words matched by their skeleton (accents, case, leetspeak, elongation folded), hits with their spans."""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from palabre.nlp.normalize import NormalizedText, normalize
from palabre.nlp.patterns import CuePattern

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicons"
CATEGORIES = ("insult", "slur", "dehumanizing", "neg_attribute", "threat", "sexual", "spam", "profanity")
_LDNOOBW_SKIP = frozenset(
    word
    for line in (LEXICON_DIR / "ldnoobw_skip.txt").read_text(encoding="utf-8").splitlines()
    if (word := line.split("#", 1)[0].strip())
)
_EMOJI = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff"
# Words, and each pictograph as a word of its own.
_PLAIN = re.compile(r"[a-z]+")
_WORD = re.compile(rf"[^\W_]+|[{_EMOJI}]")
_ENTRY_TOKEN = re.compile(rf"[^\W_]+\*?|[{_EMOJI}]|\*")


@dataclass(frozen=True, slots=True)
class Span:
    """A lexicon hit: [start, end) in the original text."""

    start: int
    end: int
    category: str
    term: str
    source: str

    def as_dict(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "category": self.category,
            "term": self.term,
            "source": self.source,
        }


@lru_cache(maxsize=65536)
def skeleton(word: str) -> str:
    if len(word) < 2:
        return word
    out = [word[0]]
    for c in word[1:]:
        if c != out[-1]:
            out.append(c)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _Entry:
    tokens: tuple[tuple[str, bool], ...]  # (skeleton, is_prefix); ("", False) = any word
    lengths: tuple[int, ...]  # folded length of each token: a shorter word is another word
    category: str
    term: str
    source: str


@dataclass(slots=True)
class _Keyed:
    """The entries that begin with one token: by their second token where it is an exact word
    (``by_second``), the others (one word, or a prefix or any word next) in ``others``."""

    others: list[_Entry] = field(default_factory=list)
    by_second: dict[str, list[_Entry]] = field(default_factory=dict)

    def add(self, entry: _Entry) -> None:
        if len(entry.tokens) > 1 and entry.tokens[1][0] and not entry.tokens[1][1]:
            self.by_second.setdefault(entry.tokens[1][0], []).append(entry)
        else:
            self.others.append(entry)

    def __bool__(self) -> bool:
        return bool(self.others or self.by_second)


# What a word may begin: the entries to check whatever follows, and those by the next word.
_Candidates = tuple[tuple[_Entry, ...], dict[str, tuple[_Entry, ...]]]
_NO_CANDIDATES: _Candidates = ((), {})


@dataclass(slots=True)
class LexiconHits:
    """Hits of one text, in normalised offsets, with the normalisation to map them back."""

    normalized: NormalizedText
    hits: list[tuple[int, int, str, str, str]]  # (start, end, category, term, source)
    counts: Counter

    def spans(self, *, categories: set[str] | None = None) -> list[Span]:
        """Hits as original-text spans, overlapping hits of one category merged."""
        out: list[Span] = []
        seen: set[tuple[int, int, str]] = set()
        for s, e, cat, term, source in sorted(self.hits):
            if categories and cat not in categories:
                continue
            a, b = self.normalized.to_original(s, e)
            key = (a, b, cat)
            if key in seen:
                continue
            seen.add(key)
            out.append(Span(a, b, cat, term, source))
        # Drop a hit contained in a longer hit of the same category.
        out.sort(key=lambda sp: (sp.start, -(sp.end - sp.start)))
        kept: list[Span] = []
        for sp in out:
            if any(k.category == sp.category and k.start <= sp.start and sp.end <= k.end for k in kept):
                continue
            kept.append(sp)
        return kept


def _scan(s: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((m.start(), m.end(), skeleton(m.group(0))) for m in _WORD.finditer(s))


# Several lexicons match the same text: the featurizer's three, then an organisation's rules and the
# context, after the whole batch (up to 256 texts) is scored. Short texts are kept for a batch;
# a long one is scanned again (bounded memory: 256 texts of at most 1,000 characters).
_cached_scan = lru_cache(maxsize=256)(_scan)
# A hostile word glued to the word before it is read only from this many letters and in these
# categories: "leçon" is not "le con", "députés" is not "de putes", "Cespedes" not "ces pedes".
GLUED_MIN_CHARS = 6
GLUED_CATEGORIES = frozenset({"slur", "insult", "dehumanizing"})
GLUED_TO = frozenset(
    [
        "de",
        "des",
        "du",
        "les",
        "ces",
        "la",
        "le",
        "un",
        "une",
        "sale",
        "sales",
        "tous",
        "toutes",
        "juste",
        "trop",
        "bande",
        "espece",
        "sont",
        "etes",
        "que",
    ]
)
_CACHED_CHARS = 1000
# A listed word with letters hidden by asterisks ("b*tard", "enc*lé", "fils de p***"), one asterisk a
# letter, is read as the listed word of that length: the asterisks keep the offsets. Not a word that
# begins with one ("*offert*") nor one with a single asterisk after it (a footnote: "cons*").
MASKABLE_CATEGORIES = ("insult", "slur", "profanity", "sexual", "dehumanizing")
_MASKED_WORD = re.compile(r"(?<![\w*])[a-z][a-z*]*\*[a-z*]*(?![\w*])")


def _tokens(s: str) -> tuple[tuple[int, int, str], ...]:
    """Word skeletons of a normalised text."""
    return _cached_scan(s) if len(s) <= _CACHED_CHARS else _scan(s)


class Lexicon:
    """Whole-word matcher over token skeletons, plus regular-expression entries."""

    def __init__(
        self,
        entries: list[tuple[str, str, str]],
        spellings: frozenset[str] = frozenset(),
        glued: frozenset[str] = frozenset(),
    ):
        # Words that a hostile word may be glued to, its space left out ("trop debougnoules", "une
        # espececonnard"): the word is read as the listed one.
        self._glued = sorted((skeleton(w) for w in glued), key=len, reverse=True)
        # Ordinary words whose doubled letter is their spelling ("baisse", "salle", "food"): they
        # share a listed word's skeleton but are not an elongation of it, so they match nothing.
        self._spellings = spellings
        # Entries by their first token: an exact word or a prefix. An entry whose second token is an
        # exact word is filed under it too (``_Keyed``): "a", "you", "the" begin hundreds of
        # entries, and only those that go on with the next word are worth checking.
        self._exact: dict[str, _Keyed] = {}
        self._prefix: dict[str, _Keyed] = {}
        self._prefix_lengths: set[int] = set()
        regexes: dict[tuple[str, str], list[str]] = {}
        self.size = 0
        seen: set[tuple] = set()
        for category, entry, source in entries:
            if entry.startswith("re:"):
                regexes.setdefault((category, source), []).append(entry[3:].replace(" ", r"[\W_]+"))
                self.size += 1
                continue
            folded = self._fold_entry(entry)
            if source.startswith("ldnoobw") and (folded in _LDNOOBW_SKIP or len(folded.replace(" ", "")) < 3):
                continue
            toks = []
            lengths = []
            for t in _ENTRY_TOKEN.findall(folded):
                if t == "*":
                    toks.append(("", False))
                    lengths.append(0)
                elif t.endswith("*"):
                    toks.append((skeleton(t[:-1]), True))
                    lengths.append(0)
                else:
                    toks.append((skeleton(t), False))
                    # "but" shares the skeleton of "butt": only as long a word (or an elongation) matches.
                    lengths.append(len(t))
            if not toks or toks[0][0] == "":
                continue
            key = (tuple(toks), category)
            if key in seen:
                continue
            seen.add(key)
            e = _Entry(tuple(toks), tuple(lengths), category, entry, source)
            self.size += 1
            first, is_prefix = toks[0]
            if is_prefix:
                self._prefix.setdefault(first, _Keyed()).add(e)
                self._prefix_lengths.add(len(first))
            else:
                self._exact.setdefault(first, _Keyed()).add(e)
        self._regexes = [
            (cat, src, CuePattern("|".join(f"(?:{p})" for p in pats))) for (cat, src), pats in regexes.items()
        ]
        # The words a masked word may stand for (entries of one word), most hurtful categories
        # first, by length.
        self._maskable: dict[int, list[str]] = {}
        rank = {category: i for i, category in enumerate(MASKABLE_CATEGORIES)}
        for _category, entry, _source in sorted(
            (e for e in entries if e[0] in rank), key=lambda e: rank[e[0]]
        ):
            words = () if entry.startswith("re:") else _ENTRY_TOKEN.findall(self._fold_entry(entry))
            word = words[0].rstrip("*") if len(words) == 1 else ""
            if word.isalpha() and word.isascii() and word not in self._maskable.get(len(word), ()):
                self._maskable.setdefault(len(word), []).append(word)
        self._lengths = sorted(self._prefix_lengths)
        self._seen: dict[str, _Candidates] = {}

    @staticmethod
    def _fold_entry(entry: str) -> str:
        # Normalise each word of the entry like text, keeping the * markers.
        parts = []
        for raw in entry.split():
            star = raw.endswith("*") and raw != "*"
            word = raw[:-1] if star else raw
            if word == "*":
                parts.append("*")
                continue
            folded = word if _PLAIN.fullmatch(word) else normalize(word).text
            parts.append(folded + ("*" if star else ""))
        return " ".join(parts)

    def _keyed(self, sk: str) -> list[_Keyed]:
        """The entries a word of this skeleton begins: listed as it is, or by a prefix of it."""
        first = (self._exact.get(sk), *(self._prefix.get(sk[:n]) for n in self._lengths if n <= len(sk)))
        return [k for k in first if k]

    def _candidates(self, sk: str) -> _Candidates:
        found = self._seen.get(sk)
        if found is not None:
            return found
        keyed = self._keyed(sk)
        if not keyed and self._glued:
            glued = self._glued_candidates(sk)
            found = (glued, {}) if glued else _NO_CANDIDATES
        elif not keyed:
            found = _NO_CANDIDATES
        else:
            by_next: dict[str, tuple[_Entry, ...]] = {}
            for k in keyed:
                for second, entries in k.by_second.items():
                    by_next[second] = by_next.get(second, ()) + tuple(entries)
            found = (tuple(e for k in keyed for e in k.others), by_next)
        if len(self._seen) < 200_000:  # words repeat; bounded so odd input cannot grow it
            self._seen[sk] = found
        return found

    def _glued_candidates(self, sk: str) -> tuple[_Entry, ...]:
        """The one-word hostile entries of a word glued to one of ``glued`` (its space left out), where
        what follows is long enough to be no ordinary word's end ("leçon" is not "le con")."""
        for glue in self._glued:
            rest = sk[len(glue) :]
            if not sk.startswith(glue) or len(rest) < GLUED_MIN_CHARS:
                continue
            found = tuple(
                e
                for k in self._keyed(rest)
                for e in k.others
                if len(e.tokens) == 1 and e.category in GLUED_CATEGORIES
            )
            if found:
                return found
        return ()

    def _unmask(self, s: str) -> str:
        """The text with each masked word that stands for exactly one length of listed word read as
        the first such word (same length: offsets are kept)."""

        def fill(m: re.Match) -> str:
            word = m.group(0)
            if word.endswith("*") and not word.endswith("**") and "*" not in word[:-1]:
                return word  # a footnote's asterisk
            shape = re.compile(word.replace("*", "[a-z]"))
            return next((w for w in self._maskable.get(len(word), ()) if shape.fullmatch(w)), word)

        return _MASKED_WORD.sub(fill, s) if "*" in s else s

    def match(self, text: str | NormalizedText) -> LexiconHits:
        norm = text if isinstance(text, NormalizedText) else normalize(text)
        s = self._unmask(norm.text)
        hits: list[tuple[int, int, str, str, str]] = []
        counts: Counter = Counter()
        words = _tokens(s) if self._exact or self._prefix else ()
        n = len(words)
        seen = self._seen
        for i, (start, end, sk) in enumerate(words):
            # Most words are in no entry: the cache lookup inline spares a call per word.
            found = seen.get(sk)
            if found is None:
                found = self._candidates(sk)
            if found is _NO_CANDIDATES or (self._spellings and s[start:end] in self._spellings):
                continue
            entries, by_next = found
            if by_next and i + 1 < n:
                going_on = by_next.get(words[i + 1][2])
                if going_on:
                    entries = entries + going_on
            for e in entries:
                toks = e.tokens
                if i + len(toks) > n or end - start < e.lengths[0]:
                    continue
                ok = True
                for j in range(1, len(toks)):
                    want, is_prefix = toks[j]
                    w_start, w_end, got = words[i + j]
                    if want == "":
                        continue
                    if (
                        not (got.startswith(want) if is_prefix else got == want)
                        or w_end - w_start < e.lengths[j]
                        or s[w_start:w_end] in self._spellings
                    ):
                        ok = False
                        break
                if ok:
                    hits.append((start, words[i + len(toks) - 1][1], e.category, e.term, e.source))
                    counts[e.category] += 1
        for cat, src, rx in self._regexes:
            for m in rx.finditer(s):
                if m.end() > m.start():
                    hits.append((m.start(), m.end(), cat, m.group(0), src))
                    counts[cat] += 1
        return LexiconHits(norm, hits, counts)


def _read_tsv(path: Path, source: str) -> list[tuple[str, str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, _, entry = line.partition("\t")
        if entry.strip():
            out.append((category.strip(), entry.strip(), source))
    return out


def _read_ldnoobw(path: Path, source: str) -> list[tuple[str, str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.strip().lower()
        if not word or word in _LDNOOBW_SKIP or len(word) < 3:
            continue
        out.append(("profanity", word.replace("*", ""), source))
    return out


def _read_spellings() -> frozenset[str]:
    lines = (LEXICON_DIR / "spellings.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(
        normalize(line.strip()).text for line in lines if line.strip() and not line.startswith("#")
    )


_lock = threading.Lock()
_cache: dict[str, Lexicon] = {}


def load_lexicon(name: str = "moderation") -> Lexicon:
    """The shipped lexicons, built once per process.

    ``moderation``: fr.tsv, en.tsv and the ldnoobw lists; ``targets``: identity groups;
    ``sentiment``: polarity words, emoji and negations; ``context``: context_fr.tsv and
    context_en.tsv (the source of each entry is its language).
    """
    lex = _cache.get(name)
    if lex is not None:
        return lex
    with _lock:
        lex = _cache.get(name)
        if lex is None:
            if name in ("targets", "sentiment"):
                entries = _read_tsv(LEXICON_DIR / f"{name}.tsv", name)
            elif name.startswith("context"):
                # Three lexicons of the same files, so that each runs only when it may matter:
                # the word entries, the counter-speech patterns, the reference patterns.
                kinds = {"context_counter": {"counter", "negated"}, "context_reference": {"reference"}}.get(
                    name
                )
                if kinds is None and name != "context":
                    raise ValueError(f"unknown lexicon {name!r}")
                entries = [
                    entry
                    for language in CONTEXT_LANGUAGES
                    for entry in _read_tsv(LEXICON_DIR / f"context_{language}.tsv", language)
                    if (entry[0] in kinds if kinds else entry[0] not in {"counter", "negated", "reference"})
                ]
            elif name == "moderation":
                entries = (
                    _read_tsv(LEXICON_DIR / "fr.tsv", "fr")
                    + _read_tsv(LEXICON_DIR / "en.tsv", "en")
                    + _read_ldnoobw(LEXICON_DIR / "ldnoobw_fr.txt", "ldnoobw_fr")
                    + _read_ldnoobw(LEXICON_DIR / "ldnoobw_en.txt", "ldnoobw_en")
                )
            else:
                raise ValueError(f"unknown lexicon {name!r}")
            moderation = name == "moderation"
            lex = Lexicon(
                entries,
                _read_spellings() if moderation else frozenset(),
                GLUED_TO if moderation else frozenset(),
            )
            _cache[name] = lex
    return lex


CONTEXT_LANGUAGES = ("fr", "en")
