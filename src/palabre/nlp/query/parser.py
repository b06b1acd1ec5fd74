"""The lexer and parser of the query language (English and French operators), and `parse_query`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from palabre.nlp.query.anchors import _unanchored, anchors
from palabre.nlp.query.syntax import (
    FIELDS,
    MAX_DEPTH,
    MAX_NEAR,
    MAX_NEARS,
    MAX_QUERY_LENGTH,
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
)
from palabre.nlp.query.tokens import PREFIX, TOKEN_PATTERN, WORD, describe_token

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
    def __init__(self, text: str, max_nears: int | None = MAX_NEARS):
        self.text = text
        self.nears = 0
        self.max_nears = max_nears
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
            self.nears += 1
            if self.max_nears is not None and self.nears > self.max_nears:
                raise self.error("bad_near", position, problem="too_many", limit=self.max_nears)
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


def parse_query(text: str, *, max_nears: int | None = MAX_NEARS) -> Query:
    """Parse ``text``; raise :class:`QuerySyntaxError` when it is not a usable query.

    ``max_nears=None`` reads a query saved before NEAR were counted (a saved query keeps
    matching; a new or changed one is held to ``MAX_NEARS``)."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError("too_long", MAX_QUERY_LENGTH, text, limit=MAX_QUERY_LENGTH)
    root = _Parser(text, max_nears).parse()
    if anchors(root) is None:
        raise QuerySyntaxError("no_positive_term", _unanchored(root).position, text)
    return Query(root, text)
