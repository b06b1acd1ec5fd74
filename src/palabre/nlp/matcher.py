"""Many listening queries matched at once against a stream of posts.

The queries are compiled once into:

- a vocabulary: every key a term can be looked up by (folded, singularised words, ``#tags``,
  ``@mentions``) and every prefix;
- an anchor index, from key to the queries for which that key is an anchor: a term of which
  every matching post holds at least one (see :func:`palabre.nlp.query.anchors`);
- one small Python closure per query that evaluates its tree on a post's token positions.

A post is tokenised once (one regular expression), each distinct raw token is described once and
kept in a cache (the vocabulary of a stream of posts is small), tokens outside the vocabulary
are dropped, and only the queries anchored on one of the remaining keys are evaluated. The
cost of a post thus depends on its length and on the queries it may match, not on how many
queries there are. Character offsets are only computed for posts that match.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from palabre.nlp.query import (
    HASHTAG,
    MENTION,
    PREFIX,
    TOKEN_PATTERN,
    WORD,
    And,
    Filter,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Query,
    QuerySyntaxError,
    Term,
    anchors,
    describe_token,
    parse_query,
)

__all__ = ["Match", "QueryMatcher", "matches"]

# A match of one term: first and last token positions.
Interval = tuple[int, int]
# A compiled node: (keys present -> positions, keys per position, (lang, source, domain)) ->
# the intervals that made it true (possibly none, for NOT and filters), or None when false.
Evaluator = Callable[[dict, list, tuple], "list[Interval] | None"]

_findall = TOKEN_PATTERN.findall
_CACHE_LIMIT = 200_000
_ELIDED = ("\x00elided",)  # marks an elided article in the token cache; never a key


@dataclass(frozen=True, slots=True)
class Match:
    """A query that matched a post, with the spans ``[start, end)`` of the original text (Python
    string indices) of the terms that made it match, sorted, without duplicates."""

    query_id: Hashable
    spans: tuple[tuple[int, int], ...]


class QueryMatcher:
    """Compile ``queries`` (id -> text or :class:`Query`) to match many posts against all of them.

    Raises :class:`QuerySyntaxError`, with ``query_id`` set, for the first invalid query."""

    def __init__(self, queries: Mapping[Hashable, str | Query]):
        self.queries: dict[Hashable, Query] = {}
        for query_id, query in queries.items():
            if isinstance(query, str):
                try:
                    query = parse_query(query)
                except QuerySyntaxError as error:
                    error.query_id = query_id
                    raise
            self.queries[query_id] = query
        self._ids = list(self.queries)
        self._words: set[str] = set()  # keys of words, #tags and @mentions used by some query
        self._prefixes: set[str] = set()
        self._evaluators: list[Evaluator] = []
        anchored: dict[str, list[int]] = {}
        for index, query in enumerate(self.queries.values()):
            self._evaluators.append(self._compile(query.root))
            for term in anchors(query.root) or ():  # parse_query refuses queries without anchors
                key = _anchor_key(term)
                entries = anchored.setdefault(key, [])
                if not entries or entries[-1] != index:
                    entries.append(index)
        self._anchored = {key: tuple(v) for key, v in anchored.items()}
        self._prefix_lengths = sorted({len(p) for p in self._prefixes})
        self._cache: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._ids)

    # compiling
    def _compile(self, node: Node) -> Evaluator:
        if isinstance(node, Term):
            return self._compile_term(node)
        if isinstance(node, Phrase):
            return self._compile_phrase(node)
        if isinstance(node, Near):
            return _near(self._compile(node.left), self._compile(node.right), node.distance)
        if isinstance(node, And):
            # Positive parts first: they fail fast on the keys of the post.
            children = sorted(node.children, key=lambda c: isinstance(c, Not | Filter))
            return _all([self._compile(c) for c in children])
        if isinstance(node, Or):
            return _any([self._compile(c) for c in node.children])
        if isinstance(node, Not):
            return _not(self._compile(node.child))
        if isinstance(node, Filter):
            return _filter(node.field, node.value)
        raise TypeError(f"not a query node: {node!r}")

    def _compile_term(self, term: Term) -> Evaluator:
        key = term.key
        if term.kind == PREFIX:
            self._prefixes.add(term.value)
        else:
            self._words.add(key)

        def evaluate(occurrences, keys_at, meta):
            found = occurrences.get(key)
            return [(p, p) for p in found] if found else None

        return evaluate

    def _compile_phrase(self, phrase: Phrase) -> Evaluator:
        keys = [t.key for t in phrase.terms]
        self._words.update(keys)
        first, rest, last = keys[0], list(enumerate(keys[1:], 1)), len(keys) - 1

        def evaluate(occurrences, keys_at, meta):
            found = occurrences.get(first)
            if not found:
                return None
            size = len(keys_at)
            out = [
                (p, p + last) for p in found if p + last < size and all(k in keys_at[p + i] for i, k in rest)
            ]
            return out or None

        return evaluate

    # matching
    def _describe(self, raw: str) -> tuple[str, ...]:
        """The keys of one raw token that some query uses (cached)."""
        info = describe_token(raw)
        if info is None:
            keys: tuple[str, ...] = _ELIDED
        else:
            words = self._words
            found = [k for k in (info.word, info.tag, *info.mentions) if k and k in words]
            if self._prefixes:
                body, prefixes = info.body, self._prefixes
                for size in self._prefix_lengths:
                    if size > len(body):
                        break
                    if body[:size] in prefixes:
                        found.append("\x00" + body[:size])
            keys = tuple(found)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[raw] = keys
        return keys

    def match(
        self, text: str, *, lang: str | None = None, source: str | None = None, domain: str | None = None
    ) -> list[Match]:
        """The queries that ``text`` matches, in the order they were given.

        ``lang``, ``source`` and ``domain`` are what ``lang:``, ``source:`` and ``domain:`` filters
        test; a filter on a value that is not given is false."""
        raws = _findall(text)
        if not raws:
            return []
        cache = self._cache
        keys_at = [cache.get(raw) for raw in raws]
        if None in keys_at:
            describe = self._describe
            keys_at = [k if k is not None else describe(r) for k, r in zip(keys_at, raws, strict=True)]
        if _ELIDED in keys_at:
            keys_at = [k for k in keys_at if k is not _ELIDED]
        occurrences: dict[str, list[int]] = {}
        for position, keys in enumerate(keys_at):
            if keys:
                for key in keys:
                    found = occurrences.get(key)
                    if found is None:
                        occurrences[key] = [position]
                    else:
                        found.append(position)
        if not occurrences:
            return []
        anchored = self._anchored
        candidates: set[int] = set()
        for key in occurrences:
            indexes = anchored.get(key)
            if indexes:
                candidates.update(indexes)
        if not candidates:
            return []
        meta = (_lang(lang), (source or "").lower() or None, _domain(domain))
        evaluators = self._evaluators
        results = []
        for index in sorted(candidates):
            intervals = evaluators[index](occurrences, keys_at, meta)
            if intervals is not None:
                results.append((index, intervals))
        if not results:
            return []
        bounds = _token_bounds(text)
        ids = self._ids
        return [
            Match(ids[index], tuple(sorted({(bounds[a][0], bounds[b][1]) for a, b in intervals})))
            for index, intervals in results
        ]


def _anchor_key(term: Term | Phrase) -> str:
    if isinstance(term, Phrase):
        # The longest word of the phrase: the least frequent one, most likely.
        return max((t for t in term.terms), key=lambda t: len(t.value)).key
    return term.key


def _token_bounds(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in TOKEN_PATTERN.finditer(text) if describe_token(m.group()) is not None]


def _lang(value: str | None) -> str | None:
    return value.lower().replace("_", "-") if value else None


def _domain(value: str | None) -> str | None:
    if not value:
        return None
    value = value.lower().rstrip("/.")
    return value.removeprefix("www.")


def _near(left: Evaluator, right: Evaluator, distance: int) -> Evaluator:
    def evaluate(occurrences, keys_at, meta):
        lefts = left(occurrences, keys_at, meta)
        if lefts is None:
            return None
        rights = right(occurrences, keys_at, meta)
        if rights is None:
            return None
        used = set()
        for a in lefts:
            for b in rights:
                if (0 <= b[0] - a[1] - 1 <= distance) or (0 <= a[0] - b[1] - 1 <= distance):
                    used.add(a)
                    used.add(b)
        return list(used) or None

    return evaluate


def _all(children: list[Evaluator]) -> Evaluator:
    def evaluate(occurrences, keys_at, meta):
        out: list[Interval] = []
        for child in children:
            found = child(occurrences, keys_at, meta)
            if found is None:
                return None
            out.extend(found)
        return out

    return evaluate


def _any(children: list[Evaluator]) -> Evaluator:
    def evaluate(occurrences, keys_at, meta):
        out: list[Interval] | None = None
        for child in children:
            found = child(occurrences, keys_at, meta)
            if found is not None:
                out = found if out is None else out + found
        return out

    return evaluate


def _not(child: Evaluator) -> Evaluator:
    def evaluate(occurrences, keys_at, meta):
        return [] if child(occurrences, keys_at, meta) is None else None

    return evaluate


def _filter(name: str, value: str) -> Evaluator:
    if name == "lang":
        prefix = value + "-"

        def test(meta):
            lang = meta[0]
            return lang is not None and (lang == value or lang.startswith(prefix))

    elif name == "source":

        def test(meta):
            return meta[1] == value

    else:
        suffix = "." + value

        def test(meta):
            domain = meta[2]
            return domain is not None and (domain == value or domain.endswith(suffix))

    def evaluate(occurrences, keys_at, meta):
        return [] if test(meta) else None

    return evaluate


@lru_cache(maxsize=256)
def _single(query: str | Query) -> QueryMatcher:
    return QueryMatcher({0: query})


def matches(
    query: str | Query,
    text: str,
    *,
    lang: str | None = None,
    source: str | None = None,
    domain: str | None = None,
) -> Match | None:
    """Match one query (text or :class:`Query`) against one text; None when it does not match."""
    found = _single(query).match(text, lang=lang, source=source, domain=domain)
    return found[0] if found else None


# Names for the kinds of terms, re-exported for callers that build queries programmatically.
TERM_KINDS = (WORD, HASHTAG, MENTION, PREFIX)
