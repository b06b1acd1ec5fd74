"""The syntax tree of a query (terms, phrases, NEAR, AND, OR, NOT, filters), the parsed `Query`, and the errors a person is shown, with where they are."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from palabre.nlp.query.tokens import HASHTAG, MENTION, PREFIX, WORD, singular

MAX_QUERY_LENGTH = 10_000
MAX_DEPTH = 64
MAX_NEAR = 100
# Matching a NEAR costs about the text's length (a NEAR/50 over 20,000 characters of its own words:
# 20 ms): a query of 180 held a shared worker 4 s on one post. Brand queries use a handful.
MAX_NEARS = 20
FIELDS = ("lang", "source", "domain")

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
    "bad_near:too_many": "The NEAR at position {position} is one too many: a query holds at most {limit}",
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
