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

from palabre.nlp.query.anchors import STOPWORDS, anchor_term, anchors, rarity
from palabre.nlp.query.parser import parse_query
from palabre.nlp.query.syntax import (
    ERROR_MESSAGES,
    FIELDS,
    MAX_DEPTH,
    MAX_NEAR,
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
from palabre.nlp.query.tokens import (
    HASHTAG,
    MENTION,
    PREFIX,
    TOKEN_PATTERN,
    WORD,
    Token,
    TokenInfo,
    describe_token,
    singular,
    tokenize,
)

__all__ = [
    "And",
    "ERROR_MESSAGES",
    "FIELDS",
    "Filter",
    "HASHTAG",
    "MAX_DEPTH",
    "MAX_NEAR",
    "MAX_QUERY_LENGTH",
    "MENTION",
    "Near",
    "Node",
    "Not",
    "Or",
    "PREFIX",
    "Phrase",
    "Query",
    "QuerySyntaxError",
    "STOPWORDS",
    "TOKEN_PATTERN",
    "Term",
    "Token",
    "TokenInfo",
    "WORD",
    "anchor_term",
    "anchors",
    "describe_token",
    "parse_query",
    "rarity",
    "singular",
    "tokenize",
]
