"""Many listening queries matched at once against a stream of posts.

The queries are compiled once into:

- a vocabulary: every key a term can be looked up by (folded, singularised words, ``#tags``,
  ``@mentions``) and every prefix;
- an anchor index, from key to the queries for which that key is an anchor: a term of which
  every matching post holds at least one (see :func:`palabre.nlp.query.anchors`);
- per query, a yes/no test compiled to one Python expression over the keys of a post, and
  closures that collect the token positions of the terms that made it match.

A post is tokenised once (one regular expression), each distinct raw token is described once and
kept in a cache (the vocabulary of a stream of posts is small), tokens outside the vocabulary
are dropped, and only the queries anchored on one of the remaining keys are tested; spans are
collected, and character offsets computed, only for the queries that match. The cost of a post
thus depends on its length and on the queries it may match, not on how many queries there are.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, count

from palabre.nlp.query import (
    PREFIX,
    TOKEN_PATTERN,
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
    anchor_term,
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
Test = Callable[[dict, list, tuple], bool]

_findall = TOKEN_PATTERN.findall
_APOSTROPHES = "'’ʼ‘"  # the last character of an elided article, and of no other token
_ELIDED = ("\x00elided",)  # marks an elided article in the token cache; never a key


@dataclass(frozen=True, slots=True)
class Match:
    """A query that matched a post, with the spans ``[start, end)`` of the original text (Python
    string indices) of the terms that made it match, sorted, without duplicates."""

    query_id: Hashable
    spans: tuple[tuple[int, int], ...]


class QueryMatcher:
    """Compile ``queries`` (id -> text or :class:`Query`) to match many posts against all of them.

    Raises :class:`QuerySyntaxError`, with ``query_id`` set, for the first invalid query.
    ``cache_size`` bounds the cache of described tokens (emptied when full). A matcher may be
    shared between threads: matching only reads it, but for that cache."""

    def __init__(self, queries: Mapping[Hashable, str | Query], *, cache_size: int = 200_000):
        self.queries: dict[Hashable, Query] = {}
        for query_id, query in queries.items():
            try:
                if isinstance(query, str):
                    query = parse_query(query)
                elif anchors(query.root) is None:  # a tree built by hand, not by parse_query
                    raise QuerySyntaxError("no_positive_term", 0, str(query))
            except QuerySyntaxError as error:
                error.query_id = query_id
                raise
            self.queries[query_id] = query
        self._ids = list(self.queries)
        self._words: set[str] = set()  # keys of words, #tags and @mentions used by some query
        self._prefixes: set[str] = set()
        self._evaluators: list[Evaluator] = []
        self._tests: list[Test | None] = []
        names: dict[str, object] = {"__builtins__": {}}  # shared by every compiled test
        sources: dict[int, str] = {}
        anchored: dict[str, list[int]] = {}
        for index, query in enumerate(self.queries.values()):
            self._evaluators.append(self._compile(query.root))
            self._tests.append(None)
            if not _always_true(query.root):
                sources[index] = self._test_source(query.root, names)
            for term in anchors(query.root):
                key = anchor_term(term).key
                entries = anchored.setdefault(key, [])
                if not entries or entries[-1] != index:
                    entries.append(index)
        self._compile_tests(sources, names)
        self._anchored = {key: tuple(v) for key, v in anchored.items()}
        self._prefix_lengths = sorted({len(p) for p in self._prefixes})
        self._cache: dict[str, tuple[str, ...]] = {}
        self._cache_size = cache_size

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
            children = sorted(node.children, key=_cheap_first)
            return _all([self._compile(c) for c in children])
        if isinstance(node, Or):
            # Terms of an OR share one evaluator: brand spellings, competitors' names.
            terms = [c for c in node.children if isinstance(c, Term)]
            others = [self._compile(c) for c in node.children if not isinstance(c, Term)]
            if terms:
                for term in terms:
                    self._register(term)
                others.insert(0, _keys_any(tuple(dict.fromkeys(t.key for t in terms))))
            return others[0] if len(others) == 1 else _any(others)
        if isinstance(node, Not):
            return _not(self._compile(node.child))
        if isinstance(node, Filter):
            return _filter(node.field, node.value)
        raise TypeError(f"not a query node: {node!r}")

    def _compile_tests(self, sources: dict[int, str], names: dict[str, object]) -> None:
        """Compile the yes/no tests of the queries, all in one go.

        Each test is one Python expression, ``'renault' in o and not ('f1' in o or ...)``: one
        call per post instead of one per node of the tree. Keys and values enter the source
        only through ``repr()`` of strings. (A query that is a term or an OR of terms needs no
        test: see :func:`_always_true`.)"""
        if not sources:
            return
        lambdas = ",\n".join(f"lambda o, k, m: {source}" for source in sources.values())
        try:
            tests = eval(compile(f"({lambdas},)", "<listening queries>", "eval"), names)  # noqa: S307
        # Too big or deep for the compiler; SystemError: CPython 3.11's AST bookkeeping can fail
        # ("recursion depth mismatch") when compilers run in several threads at once.
        except (SyntaxError, RecursionError, MemoryError, SystemError):
            tests = [self._fallback_test(index) for index in sources]
        for index, test in zip(sources, tests, strict=True):
            self._tests[index] = test

    def _fallback_test(self, index: int) -> Test:
        evaluate = self._evaluators[index]
        return lambda occurrences, keys_at, meta: evaluate(occurrences, keys_at, meta) is not None

    def _test_source(self, node: Node, names: dict[str, object]) -> str:
        """Python source of the yes/no test of ``node`` over ``o`` (keys present), ``k`` (keys per
        position) and ``m`` (lang, source, domain)."""
        if isinstance(node, Term):
            return f"({node.key!r} in o)"
        if isinstance(node, Or):
            keys = list(dict.fromkeys(c.key for c in node.children if isinstance(c, Term)))
            parts = [self._test_source(c, names) for c in node.children if not isinstance(c, Term)]
            if len(keys) > 4:
                name = f"s{len(names)}"
                names[name] = frozenset(keys)
                parts.insert(0, f"(not {name}.isdisjoint(o))")
            else:
                parts[:0] = [f"({key!r} in o)" for key in keys]
            return "(" + " or ".join(parts) + ")"
        if isinstance(node, And):
            children = sorted(node.children, key=_cheap_first)
            return "(" + " and ".join(self._test_source(c, names) for c in children) + ")"
        if isinstance(node, Not):
            return f"(not {self._test_source(node.child, names)})"
        if isinstance(node, Filter):
            value = node.value
            if node.field == "lang":
                return f"(m[0] is not None and (m[0] == {value!r} or m[0].startswith({value + '-'!r})))"
            if node.field == "source":
                return f"(m[1] == {value!r})"
            return f"(m[2] is not None and (m[2] == {value!r} or m[2].endswith({'.' + value!r})))"
        name = f"f{len(names)}"  # phrases and NEAR: their span evaluator
        names[name] = self._compile(node)
        return f"({name}(o, k, m) is not None)"

    def _register(self, term: Term) -> None:
        if term.kind == PREFIX:
            self._prefixes.add(term.value)
        else:
            self._words.add(term.key)

    def _compile_term(self, term: Term) -> Evaluator:
        key = term.key
        self._register(term)

        def evaluate(occurrences, keys_at, meta):
            found = occurrences.get(key)
            return [(p, p) for p in found] if found else None

        return evaluate

    def _compile_phrase(self, phrase: Phrase) -> Evaluator:
        keys = [t.key for t in phrase.terms]
        for term in phrase.terms:
            self._register(term)
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
        if len(self._cache) >= self._cache_size:
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
        keys_at = list(map(self._cache.get, raws))
        if None in keys_at:
            describe = self._describe
            keys_at = [k if k is not None else describe(r) for k, r in zip(keys_at, raws, strict=True)]
        if _ELIDED in keys_at:
            keys_at = [k for k in keys_at if k is not _ELIDED]
        occurrences: dict[str, list[int]] = {}
        # Most tokens hold no key of any query: visit only those that do.
        for position in compress(count(), keys_at):
            for key in keys_at[position]:
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
        meta = (
            lang.lower().replace("_", "-") if lang else None,
            source.lower() if source else None,
            _domain(domain) if domain else None,
        )
        tests = self._tests
        matched = [
            index
            for index in sorted(candidates)
            if (test := tests[index]) is None or test(occurrences, keys_at, meta)
        ]
        if not matched:
            return []
        evaluators = self._evaluators
        results = [(index, evaluators[index](occurrences, keys_at, meta)) for index in matched]
        needed = {p for _, intervals in results for interval in intervals for p in interval}
        bounds = _token_bounds(text, raws, needed)
        ids = self._ids
        return [
            Match(
                ids[index],
                tuple(sorted({bounds[a] if a == b else (bounds[a][0], bounds[b][1]) for a, b in intervals})),
            )
            for index, intervals in results
        ]


def _token_bounds(text: str, raws: list[str], needed: set[int]) -> dict[int, tuple[int, int]]:
    """Character offsets of the tokens at the ``needed`` positions (elided articles skipped).

    ``raws`` are the tokens in order; what lies between two tokens holds no letter or digit and
    every token starts with one (or with #/@ and one), so searching each token from the end of
    the previous one finds the place where the pattern found it."""
    bounds = {}
    last = max(needed)
    position = cursor = 0
    find = text.find
    for raw in raws:
        start = find(raw, cursor)
        cursor = start + len(raw)
        if raw[-1] in _APOSTROPHES:
            continue
        if position in needed:
            bounds[position] = (start, cursor)
            if position == last:
                break
        position += 1
    return bounds


def _domain(value: str | None) -> str | None:
    if not value:
        return None
    value = value.lower().rstrip("/.")
    return value.removeprefix("www.")


_COST = {Filter: 0, Term: 1, Or: 2, Phrase: 3, Near: 4, And: 5, Not: 6}


def _cheap_first(node: Node) -> int:
    """Order of the parts of an AND: the cheapest tests, most likely to fail, first."""
    return _COST[type(node)]


def _always_true(root: Node) -> bool:
    """Whether a query matches every post that holds one of its anchors: a term, or an OR of
    terms (its anchors are its terms); only such posts are looked at, so it needs no test."""
    return isinstance(root, Term) or (
        isinstance(root, Or) and all(isinstance(c, Term) for c in root.children)
    )


def _keys_any(keys: tuple[str, ...]) -> Evaluator:
    def evaluate(occurrences, keys_at, meta):
        out = None
        for key in keys:
            found = occurrences.get(key)
            if found:
                if out is None:
                    out = [(p, p) for p in found]
                else:
                    out.extend([(p, p) for p in found])
        return out

    return evaluate


def _near(left: Evaluator, right: Evaluator, distance: int) -> Evaluator:
    def evaluate(occurrences, keys_at, meta):
        lefts = left(occurrences, keys_at, meta)
        if lefts is None:
            return None
        rights = right(occurrences, keys_at, meta)
        if rights is None:
            return None
        if len(lefts) * len(rights) > 64:
            return _near_many(lefts, rights, distance)
        used = set()
        for a in lefts:
            for b in rights:
                if (0 <= b[0] - a[1] - 1 <= distance) or (0 <= a[0] - b[1] - 1 <= distance):
                    used.add(a)
                    used.add(b)
        return list(used) or None

    return evaluate


def _near_many(lefts: list[Interval], rights: list[Interval], distance: int) -> list[Interval] | None:
    """NEAR on long texts: for each left interval, the right ones that start within ``distance``
    words after it or end within ``distance`` words before it, found by bisection as two index
    ranges, whose union is then read once: a text repeating both terms thousands of times costs
    n log n, not n squared, nor n times the distance (each left's neighbours copied one by one: a
    query of 180 NEAR/50 held a worker 2.6 s on a post of 23,000 characters)."""
    by_start = sorted(set(rights))
    starts = [b[0] for b in by_start]
    by_end = sorted(by_start, key=lambda b: b[1])
    ends = [b[1] for b in by_end]
    used: set[Interval] = set()
    after: list[tuple[int, int]] = []
    before: list[tuple[int, int]] = []
    for a in set(lefts):
        first_after, past_after = bisect_left(starts, a[1] + 1), bisect_right(starts, a[1] + 1 + distance)
        first_before, past_before = bisect_left(ends, a[0] - 1 - distance), bisect_right(ends, a[0] - 1)
        if first_after < past_after or first_before < past_before:
            used.add(a)
            after.append((first_after, past_after))
            before.append((first_before, past_before))
    used.update(_in_ranges(by_start, after))
    used.update(_in_ranges(by_end, before))
    return list(used) or None


def _in_ranges(rows: list[Interval], ranges: list[tuple[int, int]]) -> list[Interval]:
    """The rows whose index lies in any of the half-open ranges, each read once."""
    opened = [0] * (len(rows) + 1)
    for first, past in ranges:
        if first < past:
            opened[first] += 1
            opened[past] -= 1
    inside, found = 0, []
    for index, row in enumerate(rows):
        inside += opened[index]
        if inside:
            found.append(row)
    return found


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
                if out is None:
                    out = list(found)  # a copy: the children's lists are not extended in place
                else:
                    out.extend(found)  # not `out + found`: a copy per child, quadratic in a long OR
        return out

    return evaluate


def _not(child: Evaluator) -> Evaluator:
    def evaluate(occurrences, keys_at, meta):
        return [] if child(occurrences, keys_at, meta) is None else None

    return evaluate


def _filter_test(name: str, value: str) -> Callable[[tuple], bool]:
    """Whether (lang, source, domain) fits ``name:value``."""
    if name == "lang":
        prefix = value + "-"
        return lambda meta: meta[0] is not None and (meta[0] == value or meta[0].startswith(prefix))
    if name == "source":
        return lambda meta: meta[1] == value
    suffix = "." + value
    return lambda meta: meta[2] is not None and (meta[2] == value or meta[2].endswith(suffix))


def _filter(name: str, value: str) -> Evaluator:
    test = _filter_test(name, value)

    def evaluate(occurrences, keys_at, meta):
        return [] if test(meta) else None

    return evaluate


@lru_cache(maxsize=64)
def _single(query: str | Query) -> QueryMatcher:
    return QueryMatcher({0: query}, cache_size=5_000)


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
