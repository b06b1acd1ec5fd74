"""Anchors: terms of which at least one is in every matching post, so that matching reads only the posts that hold one; the rarest are chosen."""

from __future__ import annotations

from palabre.nlp.query.syntax import And, Near, Node, Or, Phrase, Term
from palabre.nlp.query.tokens import HASHTAG, MENTION, WORD
from palabre.nlp.terms import STOP_WORDS


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
