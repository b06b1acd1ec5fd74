"""The listening query language: a parser from text to an immutable syntax tree.

    renault OR "air france"            words and exact phrases
    (renault OR peugeot) AND NOT "formule 1"
    panne NEAR/3 (clio OR megane)      within 3 words of each other, either order
    #MaisonLumière @renault_fr livrai* hashtags, mentions, prefixes
    lang:fr source:reddit domain:lemonde.fr

Precedence, tightest first: NEAR, NOT, AND (also implied between two adjacent terms), OR.
Operators are written in capitals (``AND OR NOT NEAR/n``, or in French ``ET OU SAUF``); in
lower case they are ordinary words. A query must hold at least one term that has to be
present: ``NOT foo`` or ``lang:fr`` alone would select almost every post and are refused.

Matching is French-aware and done on tokens (see :func:`tokenize` and :func:`describe_token`):
case and accents are folded; elided articles and pronouns (``l' d' qu' jusqu'`` ..., with a
straight or typographic apostrophe) are dropped, so ``avion`` matches ``l'avion``; plurals in
-s and -x are folded to the singular, and -al/-aux go together (``cheval`` matches
``chevaux``); a hyphen or an apostrophe inside a word separates two words, so ``air-france``
is the phrase ``"air france"``. A word also matches a whole hashtag or the user part of a
mention (``renault`` matches ``#Renault`` and ``@renault``) but not a part of one
(``lumiere`` does not match ``#MaisonLumiere``); ``#tag`` and ``@name`` match only hashtags and
mentions, folded but not singularised. A prefix (``livrai*``, two characters at least) matches
the folded word as written, before singularising.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from palabre.nlp.normalize import fold
from palabre.nlp.terms import APOSTROPHES, ELIDED, STOP_WORDS

__all__ = [
    "QuerySyntaxError",
    "Query",
    "Term",
    "Phrase",
    "Near",
    "And",
    "Or",
    "Not",
    "Filter",
    "Token",
    "TokenInfo",
    "parse_query",
    "anchors",
    "anchor_term",
    "rarity",
    "tokenize",
    "describe_token",
    "singular",
    "FIELDS",
    "STOPWORDS",
    "ERROR_MESSAGES",
    "MAX_NEAR",
]

MAX_QUERY_LENGTH = 10_000
MAX_DEPTH = 64
MAX_NEAR = 100
FIELDS = ("lang", "source", "domain")

# --- tokens of a text -----------------------------------------------------------------------

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


# --- syntax tree ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """A word, ``#hashtag``, ``@mention`` or ``prefix*``; ``value`` is folded, without sigil."""

    kind: str
    value: str
    position: int = field(default=0, compare=False, repr=False)

    @property
    def key(self) -> str:
        """What the term is looked up by (see :class:`TokenInfo`)."""
        if self.kind == WORD:
            return singular(self.value)
        if self.kind == HASHTAG:
            return "#" + self.value
        if self.kind == MENTION:
            return "@" + self.value
        return "\x00" + self.value  # prefixes: a namespace of their own

    def __str__(self) -> str:
        return {WORD: "{}", HASHTAG: "#{}", MENTION: "@{}", PREFIX: "{}*"}[self.kind].format(self.value)


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words (or hashtags, mentions) that follow each other, in this order."""

    terms: tuple[Term, ...]
    position: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return '"' + " ".join(str(t) for t in self.terms) + '"'


@dataclass(frozen=True, slots=True)
class Near:
    """``left NEAR/distance right``: at most ``distance`` words between them, either order.

    Each side is a term, a phrase or an OR of those."""

    left: Node
    right: Node
    distance: int
    position: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{_wrap(self.left, Near)} NEAR/{self.distance} {_wrap(self.right, Near)}"


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]
    position: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return " AND ".join(_wrap(c, And) for c in self.children)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]
    position: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return " OR ".join(_wrap(c, Or) for c in self.children)


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    position: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return "NOT " + _wrap(self.child, Not)


@dataclass(frozen=True, slots=True)
class Filter:
    """``lang:fr``, ``source:reddit`` or ``domain:lemonde.fr``; true when the post's value fits."""

    field: str
    value: str
    position: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.field}:{self.value}"


Node = Term | Phrase | Near | And | Or | Not | Filter

_BINDING = {Or: 0, And: 1, Not: 2, Near: 3}


def _wrap(node: Node, parent: type) -> str:
    # Parenthesise a child that binds less tightly than its parent (or as loosely, for NEAR).
    # AND inside OR is parenthesised too, for people who do not know the precedence by heart.
    inner = _BINDING.get(type(node))
    if inner is not None and (
        inner < _BINDING[parent] or (parent is Near and inner == 3) or (parent is Or and inner == 1)
    ):
        return f"({node})"
    return str(node)


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query. Equal queries have the same canonical ``str()``, which parses back to it."""

    root: Node
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return str(self.root)

    def walk(self) -> Iterator[tuple[Node, bool]]:
        """Every node with whether it sits under a NOT."""
        stack: list[tuple[Node, bool]] = [(self.root, False)]
        while stack:
            node, negated = stack.pop()
            yield node, negated
            if isinstance(node, And | Or):
                stack.extend((c, negated) for c in reversed(node.children))
            elif isinstance(node, Not):
                stack.append((node.child, not negated))
            elif isinstance(node, Near):
                stack.extend([(node.right, negated), (node.left, negated)])

    @property
    def terms(self) -> tuple[Term | Phrase, ...]:
        """Terms and phrases that count for the query (those not under a NOT), in order."""
        return tuple(n for n, neg in self.walk() if isinstance(n, Term | Phrase) and not neg)

    @property
    def filters(self) -> tuple[Filter, ...]:
        return tuple(n for n, _ in self.walk() if isinstance(n, Filter))


# --- errors ---------------------------------------------------------------------------------

# English templates of the messages, by code (and, for bad_near, by problem): an application
# that shows them in another language translates the template, then formats it with ``params``.
ERROR_MESSAGES = {
    "empty_query": "The query is empty: write at least one word, phrase, hashtag or mention",
    "too_long": "The query is longer than {limit} characters",
    "too_deep": "The query nests parentheses or operators more than {limit} levels deep",
    "unbalanced_parenthesis": "Missing closing parenthesis for the one opened at position {opened}",
    "unexpected_parenthesis": "Closing parenthesis at position {position} has no opening one",
    "empty_group": "Empty parentheses at position {position}",
    "unterminated_phrase": "The quote opened at position {position} is never closed",
    "empty_phrase": "The phrase at position {position} holds no word",
    "empty_term": "“{term}” at position {position} holds no letter or digit to search for",
    "bad_prefix": "“{term}” at position {position}: a * only goes at the end of a word, as in livrai*",
    "short_prefix": "The prefix “{term}” at position {position} needs at least {minimum} letters before the *",
    "unexpected_end": "The query ends after {operator}: a term is missing",
    "dangling_operator": "{operator} at position {position} has no term on its {side}",
    "bad_near:no_distance": "NEAR at position {position} needs a distance, as in NEAR/5",
    "bad_near:too_far": "The distance of NEAR at position {position} is over {limit} words",
    "bad_near:chained": (
        "NEAR at position {position} follows another NEAR: join two NEAR with AND, "
        "as in (a NEAR/3 b) AND (b NEAR/3 c)"
    ),
    "bad_near:operand": (
        "NEAR at position {near} joins words, phrases, hashtags or mentions (or an OR of them in "
        "parentheses); the part at position {position} is not one"
    ),
    "bad_near:not": "NOT at position {position} cannot follow NEAR; write a NEAR/3 b AND NOT c",
    "unknown_field": "Unknown filter “{field}:” at position {position}; the filters are {fields}",
    "bad_filter_value": "“{value}” at position {position} is not a valid {field}",
    "no_positive_term": (
        "The part at position {position} matches posts that contain none of the query's words "
        "(NOT and filters alone select almost everything): add a word, phrase, hashtag or mention "
        "that must be present"
    ),
}


class QuerySyntaxError(ValueError):
    """A query that cannot be used: where (``position``), what (``code``) and why (``message``)."""

    def __init__(self, code: str, position: int, query: str = "", **params):
        self.code = code
        self.position = position
        self.params = {"position": position, **params}
        self.template = ERROR_MESSAGES[f"{code}:{params['problem']}" if "problem" in params else code]
        self.message = self.template.format(**self.params)
        self.query = query
        self.query_id = None
        super().__init__(self.message)

    def caret(self) -> str:
        """The query on one line and a caret under the position of the problem."""
        line = self.query.replace("\n", " ").replace("\t", " ")
        return f"{line}\n{' ' * min(self.position, len(line))}^"


# --- lexer ----------------------------------------------------------------------------------

_OPERATORS = {"AND": "AND", "ET": "AND", "OR": "OR", "OU": "OR", "NOT": "NOT", "SAUF": "NOT"}
_QUOTES_OPEN = '"“”«„'
_QUOTES_CLOSE = '"“”»'
_NEAR = re.compile(r"NEAR(?:/(\d*))?")
_FIELD = re.compile(r"([A-Za-z]+):(.*)", re.S)
_FILTER_VALUES = {
    "lang": re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*"),
    "source": re.compile(r"[a-z0-9][a-z0-9_.\-]*"),
    "domain": re.compile(r"(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z0-9\-]{2,}"),
}
_FIELD_NAMES = {"lang": "language", "source": "source", "domain": "domain name"}
_SPACE = re.compile(r"\s+")
_CHUNK = re.compile(rf"[^\s()\"{_QUOTES_OPEN}{_QUOTES_CLOSE}]+")


@dataclass(frozen=True, slots=True)
class _Lex:
    kind: str  # "(", ")", "AND", "OR", "NOT", "NEAR", "TERM"
    position: int
    text: str
    node: Node | None = None
    distance: int = 0


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.items = list(self._lex())
        self.index = 0
        self.depth = 0

    def error(self, code: str, position: int, **params) -> QuerySyntaxError:
        return QuerySyntaxError(code, position, self.text, **params)

    # lexing
    def _lex(self) -> Iterator[_Lex]:
        text, i, n = self.text, 0, len(self.text)
        while i < n:
            ch = text[i]
            if ch.isspace():
                i = _SPACE.match(text, i).end()
            elif ch in "()":
                yield _Lex(ch, i, ch)
                i += 1
            elif ch == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in "-)":
                # "-word", "-(a OR b)", '-"a phrase"': NOT, as in most search engines.
                yield _Lex("NOT", i, "-")
                i += 1
            elif ch in _QUOTES_OPEN:
                close = min((j for j in (text.find(q, i + 1) for q in _QUOTES_CLOSE) if j != -1), default=-1)
                if close == -1:
                    raise self.error("unterminated_phrase", i)
                yield _Lex("TERM", i, text[i : close + 1], self._phrase(text[i + 1 : close], i))
                i = close + 1
            elif ch in _QUOTES_CLOSE:  # a closing quote with no opening one: treat as a space
                i += 1
            else:
                chunk = _CHUNK.match(text, i).group()
                yield self._chunk(chunk, i)
                i += len(chunk)

    def _phrase(self, inside: str, position: int) -> Node:
        terms = self._terms(inside, position + 1)
        if not terms:
            raise self.error("empty_phrase", position)
        return terms[0] if len(terms) == 1 else Phrase(tuple(terms), position)

    def _terms(self, text: str, offset: int) -> list[Term]:
        """The terms of a bare chunk or of a phrase; a word directly followed by * is a prefix."""
        terms = []
        stars: set[int] = set()
        for m in TOKEN_PATTERN.finditer(text):
            info = describe_token(m.group())
            if info is None:
                continue
            start, end = offset + m.start(), m.end()
            if text.startswith("*", end):
                if info.kind != WORD or text[end + 1 : end + 2].isalnum():
                    raise self.error("bad_prefix", start, term=text[m.start() : end + 2].strip())
                if len(info.body) < 2:
                    raise self.error("short_prefix", start, term=m.group() + "*", minimum=2)
                terms.append(Term(PREFIX, info.body, start))
                stars.add(end)
            else:
                terms.append(Term(info.kind, info.body, start))
        for index, char in enumerate(text):
            if char == "*" and index not in stars:
                raise self.error("bad_prefix", offset + index, term=text.strip())
        return terms

    def _chunk(self, chunk: str, position: int) -> _Lex:
        if chunk in _OPERATORS:
            return _Lex(_OPERATORS[chunk], position, chunk)
        near = _NEAR.fullmatch(chunk)
        if near:
            digits = near.group(1)
            if not digits:
                raise self.error("bad_near", position, problem="no_distance")
            distance = int(digits)
            if distance > MAX_NEAR:
                raise self.error("bad_near", position, problem="too_far", limit=MAX_NEAR)
            return _Lex("NEAR", position, chunk, distance=distance)
        fielded = _FIELD.fullmatch(chunk)
        if fielded and fielded.group(1).lower() not in ("http", "https"):
            name, value = fielded.group(1).lower(), fielded.group(2).lower()
            if name not in FIELDS:
                raise self.error("unknown_field", position, field=fielded.group(1), fields=", ".join(FIELDS))
            if name == "lang":
                value = value.replace("_", "-")
            if name == "domain":
                value = value.removeprefix("www.").rstrip("/")
            if not _FILTER_VALUES[name].fullmatch(value):
                raise self.error(
                    "bad_filter_value",
                    position + len(name) + 1,
                    value=fielded.group(2),
                    field=_FIELD_NAMES[name],
                )
            return _Lex("TERM", position, chunk, Filter(name, value, position))
        terms = self._terms(chunk, position)
        if not terms:
            raise self.error("empty_term", position, term=chunk)
        node = terms[0] if len(terms) == 1 else Phrase(tuple(terms), position)
        return _Lex("TERM", position, chunk, node)

    # parsing
    def peek(self) -> _Lex | None:
        return self.items[self.index] if self.index < len(self.items) else None

    def take(self) -> _Lex:
        item = self.items[self.index]
        self.index += 1
        return item

    def parse(self) -> Node:
        if not self.items:
            raise self.error("empty_query", 0)
        node = self.parse_or()
        extra = self.peek()
        if extra is not None:  # only a closing parenthesis stops parse_or early
            raise self.error("unexpected_parenthesis", extra.position)
        return node

    def _need_operand(self, operator: _Lex) -> None:
        nxt = self.peek()
        if nxt is None:
            raise self.error("unexpected_end", len(self.text), operator=operator.text)
        if nxt.kind in ("AND", "OR", "NEAR", ")"):
            if nxt.kind == ")":
                raise self.error("dangling_operator", operator.position, operator=operator.text, side="right")
            raise self.error("dangling_operator", nxt.position, operator=nxt.text, side="left")

    def parse_or(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("too_deep", self.peek().position if self.peek() else 0, limit=MAX_DEPTH)
        first = self.peek()
        children = [self.parse_and()]
        while (item := self.peek()) is not None and item.kind == "OR":
            self.take()
            self._need_operand(item)
            children.append(self.parse_and())
        self.depth -= 1
        return children[0] if len(children) == 1 else Or(_flatten(children, Or), first.position)

    def parse_and(self) -> Node:
        first = self.peek()
        children = [self.parse_not()]
        while (item := self.peek()) is not None and item.kind not in ("OR", ")"):
            if item.kind == "AND":
                self.take()
                self._need_operand(item)
            children.append(self.parse_not())
        return children[0] if len(children) == 1 else And(_flatten(children, And), first.position)

    def parse_not(self) -> Node:
        item = self.peek()
        if item is not None and item.kind == "NOT":
            self.take()
            self._need_operand(item)
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error("too_deep", item.position, limit=MAX_DEPTH)
            child = self.parse_not()
            self.depth -= 1
            return Not(child, item.position)
        return self.parse_near()

    def parse_near(self) -> Node:
        left = self.parse_primary()
        item = self.peek()
        if item is None or item.kind != "NEAR":
            return left
        self.take()
        self._need_operand(item)
        self._near_operand(left, item)
        right = self.parse_primary()
        self._near_operand(right, item)
        after = self.peek()
        if after is not None and after.kind == "NEAR":
            raise self.error("bad_near", after.position, problem="chained")
        return Near(left, right, item.distance, left.position)

    def _near_operand(self, node: Node, near: _Lex) -> None:
        ok = isinstance(node, Term | Phrase) or (
            isinstance(node, Or) and all(isinstance(c, Term | Phrase) for c in node.children)
        )
        if not ok:
            raise self.error("bad_near", node.position, problem="operand", near=near.position)

    def parse_primary(self) -> Node:
        item = self.peek()
        if item is None:  # only reached after an operator, which checks for an operand
            raise self.error("unexpected_end", len(self.text), operator="the last term")
        if item.kind == "TERM":
            self.take()
            return item.node
        if item.kind == "(":
            self.take()
            nxt = self.peek()
            if nxt is None:
                raise self.error("unbalanced_parenthesis", item.position, opened=item.position)
            if nxt.kind == ")":
                raise self.error("empty_group", item.position)
            if nxt.kind in ("AND", "OR", "NEAR"):
                raise self.error("dangling_operator", nxt.position, operator=nxt.text, side="left")
            node = self.parse_or()
            close = self.peek()
            if close is None or close.kind != ")":
                raise self.error("unbalanced_parenthesis", item.position, opened=item.position)
            self.take()
            return _at(node, item.position)
        if item.kind == ")":
            raise self.error("unexpected_parenthesis", item.position)
        if item.kind == "NOT":  # only NEAR's right side reaches here with a NOT
            raise self.error("bad_near", item.position, problem="not")
        raise self.error("dangling_operator", item.position, operator=item.text, side="left")


def _flatten(children: list[Node], kind: type) -> tuple[Node, ...]:
    out: list[Node] = []
    for child in children:
        out.extend(child.children if isinstance(child, kind) else (child,))
    return tuple(out)


def _at(node: Node, position: int) -> Node:
    """The node with its position moved to an opening parenthesis."""
    fields = {f: getattr(node, f) for f in node.__dataclass_fields__ if f != "position"}
    return type(node)(**fields, position=position)


# --- anchors: terms of which at least one is in every matching post --------------------------


def anchors(node: Node) -> frozenset[Term | Phrase] | None:
    """A small set of terms such that a post matching ``node`` holds at least one; None if none.

    The matcher evaluates a query only for posts holding one of its anchors."""
    if isinstance(node, Term | Phrase):
        return frozenset((node,))
    if isinstance(node, Or):
        found: set = set()
        for child in node.children:
            sub = anchors(child)
            if sub is None:
                return None
            found |= sub
        return frozenset(found)
    if isinstance(node, And):
        options = [a for a in (anchors(c) for c in node.children) if a is not None]
        if not options:
            return None
        return min(options, key=_cost)
    if isinstance(node, Near):
        return min((anchors(node.left), anchors(node.right)), key=_cost)
    return None  # Not, Filter


# Function words of French and English (folded): the most frequent words of any post, so the
# worst ones to index a phrase on. "service client" is indexed on "client", "la poste" on "poste".
STOPWORDS = STOP_WORDS


def _cost(found: frozenset[Term | Phrase]) -> tuple[int, int]:
    # Fewer anchors first, then the rarer ones (min() keeps the first of equals: the left part).
    return len(found), -min(rarity(t) for t in found)


def rarity(term: Term | Phrase) -> int:
    """A rough guess, without statistics, of how rare a term is: longer words are rarer,
    function words are the most common, hashtags and mentions are rarer than words."""
    if isinstance(term, Phrase):
        return rarity(anchor_term(term)) + 5
    if term.kind == WORD and term.value in STOPWORDS:
        return 0
    return len(term.value) + (3 if term.kind in (HASHTAG, MENTION) else 0)


def anchor_term(term: Term | Phrase) -> Term:
    """The term a post is looked up by: the term itself, or the rarest word of a phrase."""
    if isinstance(term, Phrase):
        return max(term.terms, key=rarity)
    return term


def _unanchored(node: Node) -> Node:
    """The part of a query without anchors to blame in an error message."""
    if isinstance(node, Or):
        for child in node.children:
            if anchors(child) is None:
                return _unanchored(child)
    return node


def parse_query(text: str) -> Query:
    """Parse ``text``; raise :class:`QuerySyntaxError` when it is not a usable query."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError("too_long", MAX_QUERY_LENGTH, text, limit=MAX_QUERY_LENGTH)
    root = _Parser(text).parse()
    if anchors(root) is None:
        raise QuerySyntaxError("no_positive_term", _unanchored(root).position, text)
    return Query(root, text)
