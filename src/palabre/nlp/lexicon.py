"""Lexicon matching on normalised text, with spans in the original text.

Words are compared by their skeleton (runs of one letter cut to one), so elongations
and doubled-letter misspellings (``conard``, ``salloppe``) still match.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from palabre.nlp.normalize import NormalizedText, normalize

__all__ = [
    "Span",
    "Lexicon",
    "LexiconHits",
    "load_lexicon",
    "CATEGORIES",
    "CONTEXT_KINDS",
    "ContextReading",
    "read_context",
]

LEXICON_DIR = Path(__file__).with_name("lexicons")
CATEGORIES = ("insult", "slur", "dehumanizing", "neg_attribute", "threat", "sexual", "spam", "profanity")
# ldnoobw entries that are ordinary words in French or English comments.
_LDNOOBW_SKIP = {
    "chat",
    "chronic",
    "cockerel",
    "lol",
    "omg",
    "mdr",
    "ptdr",
    "take off eh",
    "con",
    "poule",
    "vache",
    "chien",
    "chienne",
    "cochon",
    "canard",
    "lsr",
    "h o m",
    "ygg",
    "bete",
    "gras",
    "gros",
    "grosse",
    "nul",
    "nulle",
    "bouche",
    "queue",
    "pipe",
    "balle",
    "boule",
    "boules",
    "sucer",
    "manger",
    "fesse",
    "fesses",
    "sein",
    "seins",
    "cul",
    "black",
    "white",
    "asian",
    "gay",
    "jew",
    "arab",
    "muslim",
    "homo",
    "trans",
    "woman",
    "les",
    "des",
    "sale",
    "sales",
    "cons",
    "tu",
    "te",
    "toi",
    "you",
    "the",
    "and",
    "lait",
    "meuf",
    "femme",
    "fille",
    "nana",
    "noir",
    "arabe",
    "juif",
    "sex",
    "sexy",
    "hot",
    "kill",
    # Ordinary French and English words found in those lists (seen in non-negative training rows).
    "que",
    "pas",
    "bonne",
    "a/l",
    "fin",
    "ils",
    "faire",
    "mes",
    "loin",
    "bones",
    "bout",
    "style",
    "hate",
    "hui",
    "wel",
    "does",
    "trois",
    "mettre",
    "enfer",
    "esprit",
    "tom",
    "oui",
    "tard",
    "cool",
    "nip",
    "etoile",
    "post",
    "saint",
    "dix",
    "danny",
    "cocktail",
    "cre",
    "church",
    "jerry",
    "amateur",
    "menage",
    "fish",
    "com",
    "doc",
    "bat",
    "pol",
    "bos",
    "rug",
    "doo",
    "sacre",
    "arsenal",
    "folle",
}
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
_CACHED_CHARS = 1000


def _tokens(s: str) -> tuple[tuple[int, int, str], ...]:
    """Word skeletons of a normalised text."""
    return _cached_scan(s) if len(s) <= _CACHED_CHARS else _scan(s)


class Lexicon:
    """Whole-word matcher over token skeletons, plus regular-expression entries."""

    def __init__(self, entries: list[tuple[str, str, str]]):
        self._exact: dict[str, list[_Entry]] = {}
        self._prefix: dict[str, list[_Entry]] = {}
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
                self._prefix.setdefault(first, []).append(e)
                self._prefix_lengths.add(len(first))
            else:
                self._exact.setdefault(first, []).append(e)
        self._regexes = [
            (cat, src, re.compile("|".join(f"(?:{p})" for p in pats))) for (cat, src), pats in regexes.items()
        ]
        self._lengths = sorted(self._prefix_lengths)
        self._seen: dict[str, tuple[_Entry, ...]] = {}

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

    def _candidates(self, sk: str) -> tuple[_Entry, ...]:
        found = self._seen.get(sk)
        if found is not None:
            return found
        out = list(self._exact.get(sk, ()))
        for n in self._lengths:
            if n > len(sk):
                break
            more = self._prefix.get(sk[:n])
            if more:
                out += more
        found = tuple(out)
        if len(self._seen) < 200_000:  # words repeat; bounded so odd input cannot grow it
            self._seen[sk] = found
        return found

    def match(self, text: str | NormalizedText) -> LexiconHits:
        norm = text if isinstance(text, NormalizedText) else normalize(text)
        s = norm.text
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
            for e in found:
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
            lex = Lexicon(entries)
            _cache[name] = lex
    return lex


# --- context: when a listed word is not used as what it is listed as ----------------------------

# Kinds of entries in context_<language>.tsv (README.md in the lexicons folder says what each does).
CONTEXT_KINDS = (
    "ordinary",
    "harmless",
    "reported",
    "direct",
    "counter",
    "negated",
    "neutral",
    "group_hostile",
    "reference",
)
# Lexicon categories that a context may excuse: a mention of the word, not a use of it.
HOSTILE_CATEGORIES = frozenset(
    {"insult", "slur", "dehumanizing", "threat", "sexual", "profanity", "neg_attribute"}
)
# What counter-speech may excuse inside its region: never an insult (said to someone present), and
# a negation never a threat ("je ne déteste pas les X, je veux juste...").
COUNTER_EXCUSES = HOSTILE_CATEGORIES - {"insult"}
NEGATED_EXCUSES = HOSTILE_CATEGORIES - {"insult", "threat"}
_NEGATIVE_TERM = re.compile(r"\b(?:ne|n|pas|jamais|rien|not|never|no|nt)\b")
CONTEXT_LANGUAGES = ("fr", "en")
_OTHER_SOURCES = {"fr": frozenset({"en", "ldnoobw_en"}), "en": frozenset({"fr", "ldnoobw_fr"})}
# Quoted text: « », “ ”, „ “, straight double quotes.
_QUOTE = re.compile(r"«([^«»]{1,300})»|“([^“”]{1,300})”|„([^„“]{1,300})“|\"([^\"]{1,300})\"")
_CLAUSE_END = re.compile(r"[.;!?:\n]")
# Words after which a negated claim goes on to assert something ("pas des X mais des Y").
_CONTRAST = re.compile(r"\b(?:mais|plut[oô]t|juste|seulement|sinon|que|qu|but|just|only|rather|than)\b", re.I)
_TEXT_WORD = re.compile(r"[^\W_]+")
# How far a reported-speech frame ("il m'a traité de") reaches, and a self-description ("je suis").
REPORTED_REACH = 4
NEUTRAL_REACH = 0


@dataclass(frozen=True, slots=True)
class ContextReading:
    """What the context of a text says of its lexicon hits, in original-text offsets.

    `excused`: hits that are mentions, not uses (span, why: other_language, harmless, quoted,
    reported, counter_speech, negated, neutral_mention); `masked`: ranges of the text that classifiers
    should not read as the author's own words (excused hits, harmless expressions, counter-speech,
    self-descriptions, order references); `group_hostile`: hostile statements about a group
    that need no slur ("contrôlent tout", "il faudrait tous les virer"), to be combined with a
    group target; `language`: the language whose context entries applied ("und" when unknown).
    """

    language: str
    excused: tuple[tuple[Span, str], ...] = ()
    masked: tuple[tuple[int, int], ...] = ()
    group_hostile: tuple[Span, ...] = ()

    def is_excused(self, span: Span) -> bool:
        return any(
            s.start == span.start and s.end == span.end and s.category == span.category
            for s, _ in self.excused
        )


def _words_between(text: str, start: int, end: int) -> int:
    return len(_TEXT_WORD.findall(text, start, end)) if end > start else 0


def _overlaps(a: Span | tuple[int, int], b: Span | tuple[int, int]) -> bool:
    a0, a1 = (a.start, a.end) if isinstance(a, Span) else a
    b0, b1 = (b.start, b.end) if isinstance(b, Span) else b
    return a0 < b1 and b0 < a1


def _inside(inner: Span, outer: Span | tuple[int, int]) -> bool:
    o0, o1 = (outer.start, outer.end) if isinstance(outer, Span) else outer
    return o0 <= inner.start and inner.end <= o1


def _merged(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def context_language(text: str, lang: str | None) -> str:
    """The language whose context entries apply: the one given, else the detected one (by its
    function words when they are clear, by the statistical detector otherwise)."""
    if lang:
        return lang
    from palabre.nlp.language import detect_language, french_or_english

    return french_or_english(text) or detect_language(text)


def read_context(
    normalized: NormalizedText,
    spans: list[Span],
    lang: str | None = None,
    *,
    references: bool = True,
) -> ContextReading:
    """Read the hits of a text (`spans`: lexicon and identity-target spans in original offsets,
    targets with category "target") in their context, with the entries of the text's language.

    Counter-speech patterns run only when a hit or a target is there; order references only
    with `references` (when a spam score could change); the language is detected only when a
    word listed as ordinary in some language meets a hit of another language's lexicon.
    """
    text = normalized.original
    hostile = [s for s in spans if s.category in HOSTILE_CATEGORIES]
    targets = [s for s in spans if s.category == "target"]
    entries = load_lexicon("context").match(normalized).spans()
    if hostile or targets:
        entries += load_lexicon("context_counter").match(normalized).spans()
    if references:
        entries += load_lexicon("context_reference").match(normalized).spans()
    if not (hostile or targets or entries):
        return ContextReading(lang or "und")
    # Expressions are specific enough to apply whatever the language; a word listed as ordinary
    # ("retard" in French, "bite" in English) applies only in its language, detected when needed.
    language = lang or "und"
    ordinary = [s for s in entries if s.category == "ordinary"]
    if (
        not lang
        and ordinary
        and any(h.source in _OTHER_SOURCES["fr"] | _OTHER_SOURCES["en"] for h in hostile)
    ):
        language = context_language(text, lang)
    found = [s for s in entries if s.category != "ordinary" or s.source == language]
    kinds: dict[str, list[Span]] = {kind: [] for kind in CONTEXT_KINDS}
    for s in found:
        kinds.setdefault(s.category, []).append(s)

    excused: list[tuple[Span, str]] = []
    masked: list[tuple[int, int]] = []
    quotes = [(m.start(), m.end()) for m in _QUOTE.finditer(text)] if hostile else []
    outside_quotes = (
        len(_TEXT_WORD.findall(text)) - sum(len(_TEXT_WORD.findall(text, a, b)) for a, b in quotes)
        if quotes
        else 0
    )
    other_sources = _OTHER_SOURCES.get(language, frozenset())

    def quoted(hit: Span) -> bool:
        if outside_quotes < 2:
            return False  # a quoted insult alone is still an insult
        for a, b in quotes:
            if a <= hit.start and hit.end <= b:
                # 'T'es un "connard"', '« connard », c'est ce que tu es': quotes around a word said
                # to someone do not make it a mention.
                addressed = any(
                    (d.end <= a and not text[d.end : a].strip())
                    or (d.start >= b and not text[b : d.start].strip(" ,.:;!?-–—"))
                    for d in kinds["direct"]
                )
                return not addressed
        return False

    def reported(hit: Span) -> bool:
        for frame in kinds["reported"]:
            if frame.end > hit.start:
                continue
            if _CLAUSE_END.search(text, frame.end, hit.start):
                continue
            if _words_between(text, frame.end, hit.start) > REPORTED_REACH:
                continue
            if any(frame.end <= d.start and d.end <= hit.start for d in kinds["direct"]):
                continue
            return True
        return False

    def said_of_group(hit: Span, region: Span) -> bool:
        """An insult inside a counter-speech region, predicated of an identity group named
        before it in the region (not said to someone: 'arrête d'insulter les gens, connard')."""
        return _inside(hit, region) and any(region.start <= t.start and t.end <= hit.start for t in targets)

    for hit in hostile:
        why = ""
        if hit.source in other_sources and any(_inside(hit, o) for o in kinds["ordinary"]):
            why = "other_language"
        elif any(_overlaps(hit, h) and (h.start < hit.start or h.end > hit.end) for h in kinds["harmless"]):
            # "je vais le tuer de rire": the phrase reaches past the hit; "poser une bombe" is
            # a threat around the harmless "une bombe", not in it.
            why = "harmless"
        elif hit.category in COUNTER_EXCUSES and any(_inside(hit, c) for c in kinds["counter"]):
            why = "counter_speech"
        elif hit.category == "insult" and any(said_of_group(hit, c) for c in kinds["counter"]):
            # 'arrêtez de dire que les immigrés sont des parasites': the insult is the claim refuted.
            why = "counter_speech"
        elif hit.category == "insult" and any(
            said_of_group(hit, c) and not _CONTRAST.search(text, c.start, hit.start) for c in kinds["negated"]
        ):
            # 'les immigrés ne sont pas des voleurs' denies the insult; '... pas des voleurs mais
            # des parasites' asserts the second one.
            why = "negated"
        elif (
            hit.category in NEGATED_EXCUSES
            and not _NEGATIVE_TERM.search(hit.term)  # "ne sont pas capables" says the negative itself
            and any(_inside(hit, c) for c in kinds["negated"])
        ):
            why = "negated"
        elif quoted(hit):
            why = "quoted"
        elif reported(hit):
            why = "reported"
        if why:
            excused.append((hit, why))
            masked.append((hit.start, hit.end))
    for target in targets:
        for frame in kinds["neutral"]:
            if (
                frame.end <= target.start
                and _words_between(text, frame.end, target.start) <= NEUTRAL_REACH
                and not _CLAUSE_END.search(text, frame.end, target.start)
            ):
                excused.append((target, "neutral_mention"))
                masked.append((target.start, target.end))
                break
    masked += [(h.start, h.end) for h in kinds["harmless"]]
    masked += [(r.start, r.end) for r in kinds["reference"]]
    group_hostile = []
    for predicate in kinds["group_hostile"]:
        if any(_inside(predicate, c) for c in kinds["counter"] + kinds["negated"]):
            excused.append((predicate, "counter_speech"))
            masked.append((predicate.start, predicate.end))
        else:
            group_hostile.append(predicate)
    excused_at = {(span.start, span.end, span.category) for span, _why in excused}
    used = [h for h in hostile if (h.start, h.end, h.category) not in excused_at]
    for region in kinds["counter"]:
        # Counter-speech quotes the claim it refutes: none of it is the author's own claim, unless
        # a word it may not excuse (an insult) is in it.
        if any(_overlaps(region, s) for s in hostile + targets + kinds["group_hostile"]) and not any(
            _overlaps(region, h) for h in used
        ):
            masked.append((region.start, region.end))
    for region in kinds["negated"]:
        # A negated claim whose every listed word is excused ('les immigrés ne sont pas des
        # voleurs': the word is both an insult and an attribute, excused as the attribute) says
        # nothing hostile: the whole claim is left out of scoring, as counter-speech is.
        inside = [h for h in hostile if _overlaps(region, h)]
        if inside and not any(_overlaps(region, h) for h in used):
            masked.append((region.start, region.end))
    return ContextReading(language, tuple(excused), _merged(masked), tuple(group_hostile))


def masked_text(text: str, ranges: tuple[tuple[int, int], ...]) -> str:
    """`text` without the given ranges (each left as one space), for scoring what remains."""
    parts = []
    position = 0
    for a, b in ranges:
        parts.append(text[position:a])
        parts.append(" ")
        position = b
    parts.append(text[position:])
    return "".join(parts)
