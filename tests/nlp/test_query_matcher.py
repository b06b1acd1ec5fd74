"""The compiled multi-query matcher: French-aware matching, spans, filters, and agreement with a
plain evaluator of the syntax tree on thousands of random queries and texts."""

from __future__ import annotations

import random

import pytest

from palabre.nlp.matcher import Match, QueryMatcher, matches
from palabre.nlp.query import (
    HASHTAG,
    MENTION,
    PREFIX,
    WORD,
    And,
    Filter,
    Near,
    Not,
    Or,
    Phrase,
    QuerySyntaxError,
    Term,
    describe_token,
    parse_query,
    singular,
    tokenize,
)


def found(query: str, text: str, **meta) -> list[str] | None:
    """The matched pieces of ``text``, or None."""
    match = matches(query, text, **meta)
    return None if match is None else [text[a:b] for a, b in match.spans]


@pytest.mark.parametrize(
    ("query", "text", "pieces"),
    [
        # case, accents, elisions with both apostrophes
        ("avion", "J'adore l'avion", ["avion"]),
        ("avion", "L’AVION est en retard", ["AVION"]),
        ("'avion'", "d'avion", ["avion"]),
        ("lumiere", "Quelle Lumière !", ["Lumière"]),
        ("Lumière", "quelle lumiere", ["lumiere"]),
        ("ete", "e\u0301te\u0301 chaud", ["e\u0301te\u0301"]),
        ("oeuvre", "une Œuvre", ["Œuvre"]),
        ("il", "qu'il vienne", ["il"]),
        ("arrive", "lorsqu’arrive le train", ["arrive"]),
        ("l'homme", "un homme", ["homme"]),
        # plurals
        ("avion", "des avions", ["avions"]),
        ("avions", "un avion", ["avion"]),
        ("cheval", "les chevaux", ["chevaux"]),
        ("journaux", "le journal", ["journal"]),
        ("jeu", "des jeux", ["jeux"]),
        ("mai", "mais non", None),
        # phrases
        ('"air france"', "vol Air-France 447", ["Air-France"]),
        ("air-france", "Air France encore", ["Air France"]),
        ('"avion de ligne"', "l'avion de ligne", ["avion de ligne"]),
        ('"avion de ligne"', "l'avion, de ligne", ["avion, de ligne"]),
        ('"avion de ligne"', "de ligne l'avion", None),
        ('"service client"', "Le service clients est nul", ["service clients"]),
        # hashtags and mentions
        ("#maisonlumiere", "Bravo #MaisonLumière !", ["#MaisonLumière"]),
        ("#maisonlumiere", "maison lumière", None),
        ("maisonlumiere", "Bravo #MaisonLumière", ["#MaisonLumière"]),
        ("lumiere", "Bravo #MaisonLumière", None),
        ("#velo", "#velos", None),
        ("@renault", "merci @Renault.", ["@Renault"]),
        ("renault", "merci @Renault", ["@Renault"]),
        ("@renault", "merci renault", None),
        ("@renault", "jean@renault.fr", None),
        ("@marie", "cc @marie@piaille.fr", ["@marie@piaille.fr"]),
        ("@marie@piaille.fr", "cc @marie@piaille.fr", ["@marie@piaille.fr"]),
        ("c#", "du C# et du F#", ["C"]),
        # prefixes
        ("livr*", "Livraison rapide, livré hier", ["Livraison", "livré"]),
        ("livrai*", "livré hier", None),
        ("mais*", "#MaisonLumière", ["#MaisonLumière"]),
        ('"air fra*"', "Air-France, air frais", ["Air-France", "air frais"]),
        ("air-fra*", "l'air de France", None),
        # NEAR: within n words, either order, distinct occurrences
        ("panne NEAR/2 clio", "ma clio est en panne", ["clio", "panne"]),
        ("panne NEAR/1 clio", "ma clio est en panne", None),
        ("panne NEAR/0 clio", "panne clio", ["panne", "clio"]),
        ("panne NEAR/0 clio", "clio, panne", ["clio", "panne"]),
        ("panne NEAR/3 panne", "panne panne", ["panne", "panne"]),
        ("panne NEAR/3 panne", "une panne", None),
        ('"service client" NEAR/1 (nul OR lent)', "lent le service client", ["lent", "service client"]),
        ("avion NEAR/0 retard", "l'avion d'retard", ["avion", "retard"]),
        # boolean
        ("renault NOT peugeot", "renault et peugeot", None),
        ("renault -peugeot", "renault seul", ["renault"]),
        ("(renault OR peugeot) panne", "peugeot en panne", ["peugeot", "panne"]),
        ("renault OR peugeot", "Renault, Peugeot", ["Renault", "Peugeot"]),
        # text edges
        ("avion", "", None),
        ("avion", "🙂🙂 avion 🙂", ["avion"]),
    ],
)
def test_french_aware_matching(query, text, pieces):
    assert found(query, text) == pieces


def test_spans_are_offsets_in_the_original_text():
    text = "😀 Ça roule ? L’Avion d’AIR-FRANCE\u00a0!"
    match = matches('avion NEAR/0 "air france"', text)
    assert match == Match(
        0, ((text.index("Avion"), text.index("Avion") + 5), (text.index("AIR"), len(text) - 2))
    )


def test_filters_test_the_language_source_and_domain_given():
    assert found("renault lang:fr", "renault", lang="fr") == ["renault"]
    assert found("renault lang:fr", "renault", lang="fr-CA") == ["renault"]
    assert found("renault lang:fr", "renault", lang="FR_be") == ["renault"]
    assert found("renault lang:fr", "renault", lang="en") is None
    assert found("renault lang:fr", "renault") is None
    assert found("renault NOT lang:fr", "renault") == ["renault"]
    assert found("renault (lang:fr OR lang:en)", "renault", lang="en") == ["renault"]
    assert found("renault source:reddit", "renault", source="Reddit") == ["renault"]
    assert found("renault source:reddit", "renault", source="mastodon") is None
    assert found("renault domain:lemonde.fr", "renault", domain="www.lemonde.fr") == ["renault"]
    assert found("renault domain:lemonde.fr", "renault", domain="blog.lemonde.fr") == ["renault"]
    assert found("renault domain:lemonde.fr", "renault", domain="notlemonde.fr") is None


def test_many_queries_at_once_keep_their_order_and_ids():
    queries = {"b": "peugeot", ("a", 1): "renault OR peugeot", 3: parse_query("#clio"), "none": "tesla"}
    matcher = QueryMatcher(queries)
    assert len(matcher) == 4
    result = matcher.match("Peugeot ou renault ? #Clio")
    assert [m.query_id for m in result] == ["b", ("a", 1), 3]
    assert result[1].spans == ((0, 7), (11, 18))
    assert matcher.match("rien à voir") == []


def test_a_tree_built_by_hand_needs_a_term_that_must_be_present():
    from palabre.nlp.query import Query

    with pytest.raises(QuerySyntaxError) as caught:
        QueryMatcher({"x": Query(Not(Term(WORD, "renault")))})
    assert (caught.value.code, caught.value.query_id) == ("no_positive_term", "x")
    matcher = QueryMatcher({"y": Query(And((Term(WORD, "renault"), Not(Term(WORD, "clio")))))})
    assert [m.query_id for m in matcher.match("Renault !")] == ["y"]


def test_a_matcher_without_queries_matches_nothing():
    matcher = QueryMatcher({})
    assert len(matcher) == 0 and matcher.match("renault") == []


def test_an_invalid_query_is_refused_with_its_id():
    with pytest.raises(QuerySyntaxError) as caught:
        QueryMatcher({"ok": "renault", "broken": "renault AND (clio"})
    assert caught.value.query_id == "broken"
    assert caught.value.code == "unbalanced_parenthesis" and caught.value.position == 12


def test_the_token_cache_may_be_emptied_at_any_time():
    matcher = QueryMatcher({1: '"air france" NEAR/2 retard', 2: "livr*"}, cache_size=3)
    for _ in range(3):
        result = matcher.match("Air France : livraison en retard, livrée demain")
        assert [(m.query_id, len(m.spans)) for m in result] == [(1, 2), (2, 2)]


# --- the compiled matcher against a plain evaluator ------------------------------------------


def naive_match(query, text: str, lang=None, source=None, domain=None):
    """Evaluate the tree directly on the tokens, term by term: slow and obviously right."""
    tokens = tokenize(text)
    infos = [describe_token(t.raw) for t in tokens]
    lang = lang.lower().replace("_", "-") if lang else None
    domain = domain.lower().rstrip("/.").removeprefix("www.") if domain else None

    def term_at(term: Term, i: int) -> bool:
        if i >= len(infos):
            return False
        info = infos[i]
        if term.kind == WORD:
            user = info.body.split("@")[0] if info.kind == MENTION else info.body
            return singular(user) == singular(term.value)
        if term.kind == HASHTAG:
            return info.kind == HASHTAG and info.body == term.value
        if term.kind == MENTION:
            return info.kind == MENTION and term.value in (info.body, info.body.split("@")[0])
        assert term.kind == PREFIX
        return info.body.startswith(term.value)

    def evaluate(node):
        if isinstance(node, Term):
            return [(i, i) for i in range(len(infos)) if term_at(node, i)] or None
        if isinstance(node, Phrase):
            size = len(node.terms)
            out = [
                (i, i + size - 1)
                for i in range(len(infos))
                if all(term_at(t, i + j) for j, t in enumerate(node.terms))
            ]
            return out or None
        if isinstance(node, Near):
            lefts, rights = evaluate(node.left), evaluate(node.right)
            if lefts is None or rights is None:
                return None
            used = set()
            for a in lefts:
                for b in rights:
                    gap = b[0] - a[1] - 1 if b[0] > a[1] else a[0] - b[1] - 1
                    if 0 <= gap <= node.distance:
                        used |= {a, b}
            return list(used) or None
        if isinstance(node, And):
            results = [evaluate(c) for c in node.children]
            return None if None in results else [x for r in results for x in r]
        if isinstance(node, Or):
            results = [r for r in (evaluate(c) for c in node.children) if r is not None]
            return [x for r in results for x in r] if results else None
        if isinstance(node, Not):
            return [] if evaluate(node.child) is None else None
        assert isinstance(node, Filter)
        if node.field == "lang":
            ok = lang is not None and (lang == node.value or lang.startswith(node.value + "-"))
        elif node.field == "source":
            ok = source is not None and source.lower() == node.value
        else:
            ok = domain is not None and (domain == node.value or domain.endswith("." + node.value))
        return [] if ok else None

    result = evaluate(query.root)
    if result is None:
        return None
    return tuple(sorted({(tokens[a].start, tokens[b].end) for a, b in result}))


WORDS = ["avion", "cheval", "renault", "air", "france", "livraison", "panne", "clio", "maison", "de", "la"]
SURFACES = {
    "avion": ["avion", "Avions", "l'avion", "L’AVION", "#avion", "@avion", "d'avions"],
    "cheval": ["cheval", "chevaux", "Chevaux", "#cheval"],
    "renault": ["renault", "Renault", "@Renault", "@renault@piaille.fr", "#Renault", "renaults"],
    "air": ["air", "Air", "d'air", "Air-France"],
    "france": ["France", "france", "#France", "Air-France"],
    "livraison": ["livraison", "livraisons", "livré", "Livrée", "#livraison"],
    "panne": ["panne", "pannes", "PANNE", "en panne"],
    "clio": ["clio", "Clio", "#Clio", "clio4"],
    "maison": ["maison", "#MaisonLumière", "Maison", "maisons", "lumière"],
    "de": ["de", "d'", "De"],
    "la": ["la", "La", "là"],
}
FILLERS = ["très", "vite", "!", ",", "🙂", "et", "x", "aujourd'hui", "qu'il", "3,5", "...", "l'", "jusqu’à"]
# Where a token's text also appears in what lies around it: offsets must still be right.
TRICKY = [
    "a#avion",
    "x.@renault",
    "##clio",
    "@@avion",
    "_panne_",
    "＃France",
    "e\u0301te\u0301",
    "#@",
    "clio#",
]


def random_atom(rng: random.Random, near_ok: bool = True) -> str:
    word = rng.choice(WORDS)
    kind = rng.random()
    if kind < 0.45:
        return rng.choice([word, word.upper(), word + "s", "l'" + word, word.capitalize()])
    if kind < 0.55:
        return "#" + word
    if kind < 0.62:
        return "@" + word
    if kind < 0.75:
        return word[: rng.randint(2, len(word))] + "*" if len(word) >= 2 else word
    size = rng.randint(2, 3)
    words = [rng.choice(WORDS) for _ in range(size)]
    if rng.random() < 0.3:
        index = rng.randrange(size)
        words[index] = words[index][: rng.randint(2, max(2, len(words[index])))] + "*"
    return '"' + " ".join(words) + '"'


def random_query(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth >= 3 or roll < 0.3:
        return random_atom(rng)
    if roll < 0.45:
        return f"{random_query(rng, depth + 1)} AND {random_query(rng, depth + 1)}"
    if roll < 0.55:
        return f"{random_query(rng, depth + 1)} {random_query(rng, depth + 1)}"
    if roll < 0.7:
        return f"({random_query(rng, depth + 1)} OR {random_query(rng, depth + 1)})"
    if roll < 0.8:
        return f"{random_query(rng, depth + 1)} NOT {random_atom(rng)}"
    if roll < 0.9:
        left = random_atom(rng) if rng.random() < 0.7 else f"({random_atom(rng)} OR {random_atom(rng)})"
        return f"{left} NEAR/{rng.randint(0, 4)} {random_atom(rng)}"
    field = rng.choice(["lang:fr", "lang:en", "source:reddit", "domain:lemonde.fr", "NOT lang:fr"])
    return f"{random_query(rng, depth + 1)} {field}"


def random_text(rng: random.Random) -> str:
    pieces = []
    for _ in range(rng.randint(0, 14)):
        roll = rng.random()
        if roll < 0.7:
            pieces.append(rng.choice(SURFACES[rng.choice(WORDS)]))
        elif roll < 0.9:
            pieces.append(rng.choice(FILLERS))
        else:
            pieces.append(rng.choice(TRICKY))
    text = ""
    for piece in pieces:
        text += rng.choice([" "] * 8 + ["", "-", "’", ".", "#", "@"]) + piece
    return text


def test_the_compiled_matcher_agrees_with_the_plain_evaluator():
    rng = random.Random(20261122)
    queries = {}
    while len(queries) < 300:
        text = random_query(rng)
        try:
            queries[len(queries)] = parse_query(text)
        except QuerySyntaxError as error:
            assert error.code == "no_positive_term", (text, error.message)
    matcher = QueryMatcher(queries)
    compared = matched = 0
    for _ in range(300):
        text = random_text(rng)
        meta = {
            "lang": rng.choice([None, "fr", "en", "fr-CA"]),
            "source": rng.choice([None, "reddit", "rss"]),
            "domain": rng.choice([None, "lemonde.fr", "www.lemonde.fr", "blog.example.com"]),
        }
        got = {m.query_id: m.spans for m in matcher.match(text, **meta)}
        for query_id, query in queries.items():
            expected = naive_match(query, text, **meta)
            assert got.get(query_id) == expected, (str(query), text, meta)
            compared += 1
            matched += expected is not None
    # The random cases exercise both outcomes in earnest.
    assert compared == 90_000
    assert 0.05 < matched / compared < 0.6


def test_near_on_long_texts_agrees_with_the_plain_evaluator():
    rng = random.Random(3)
    queries = {
        0: "panne NEAR/2 clio",
        1: '"en panne" NEAR/0 (clio OR "la clio")',
        2: "(panne OR clio) NEAR/5 (clio OR la*)",
        3: "panne NEAR/100 renault",
    }
    matcher = QueryMatcher(queries)
    for _ in range(30):
        text = " ".join(
            rng.choice(["panne", "clio", "la", "en", "x", "l'avion", "renault"]) for _ in range(400)
        )
        got = {m.query_id: m.spans for m in matcher.match(text)}
        for query_id, query in queries.items():
            assert got.get(query_id) == naive_match(parse_query(query), text), (query, text)


def test_the_deepest_queries_allowed_compile_and_match():
    words = ["avion", "clio", "panne", "renault", "air"]
    query = "x"
    for depth in range(45):
        operator = ["AND", "OR", "AND NOT"][depth % 3]
        query = f"{words[depth % 5]} {operator} ({query})"
    parsed = parse_query(query)
    matcher = QueryMatcher({0: parsed})
    rng = random.Random(11)
    for _ in range(200):
        text = " ".join(rng.choice(words + ["x"]) for _ in range(rng.randint(1, 8)))
        got = matcher.match(text)
        assert (got[0].spans if got else None) == naive_match(parsed, text), text


def test_tests_still_work_when_the_python_compiler_refuses_them(monkeypatch):
    from palabre.nlp import matcher as matcher_module

    def refuse(*args, **kwargs):
        raise RecursionError("too deep")

    monkeypatch.setattr(matcher_module, "compile", refuse, raising=False)
    queries = {0: "renault NOT (clio OR panne)", 1: '"air france" lang:fr', 2: "avion NEAR/1 panne"}
    matcher = QueryMatcher(queries)
    assert all(test.__code__.co_filename != "<listening queries>" for test in matcher._tests)
    for text, expected in [
        ("renault en panne", []),
        ("renault seule", [0]),
        ("Air France", []),
        ("l'avion en panne, Air-France", [2]),
    ]:
        assert [m.query_id for m in matcher.match(text)] == expected
    assert [m.query_id for m in matcher.match("Air France", lang="fr")] == [1]


def test_canonical_forms_of_random_queries_parse_back_to_the_same_tree():
    rng = random.Random(7)
    for _ in range(2000):
        text = random_query(rng)
        try:
            query = parse_query(text)
        except QuerySyntaxError:
            continue
        assert parse_query(str(query)) == query, text


def test_near_on_many_intervals_keeps_exactly_the_neighbours_of_the_plain_definition():
    """`_near_many` reads the union of each left's neighbour ranges once (it copied every
    neighbour of every left: n times the distance); it keeps the same intervals as the definition."""
    from palabre.nlp.matcher import _near_many

    rng = random.Random(5)
    for _ in range(300):

        def intervals(count):
            found = []
            for _ in range(count):
                start = rng.randint(0, 120)
                found.append((start, start + rng.randint(0, 3)))
            return found

        lefts, rights, distance = (
            intervals(rng.randint(1, 40)),
            intervals(rng.randint(1, 40)),
            rng.randint(0, 60),
        )
        plain = set()
        for a in lefts:
            for b in rights:
                if (0 <= b[0] - a[1] - 1 <= distance) or (0 <= a[0] - b[1] - 1 <= distance):
                    plain.update((a, b))
        got = _near_many(lefts, rights, distance)
        assert (set(got) if got else set()) == plain, (lefts, rights, distance)
