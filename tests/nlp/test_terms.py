"""The one stop-word list per language, the one elision rule and the one TF-IDF similarity that the
inbox, publishing and the listening query language share (they had a copy each)."""

from __future__ import annotations

import pytest

from palabre.nlp import query, terms
from palabre.nlp.similarity import similarities


def test_the_query_language_and_the_inbox_read_the_same_stop_words():
    assert query.STOPWORDS is terms.STOP_WORDS
    assert terms.STOP_WORDS == terms.STOP_WORDS_FR | terms.STOP_WORDS_EN
    # The two copies differed: the union is kept. The inbox's list lacked "she", the query
    # language's lacked "bonjour" and "merci".
    assert {"she", "he"} <= terms.STOP_WORDS_EN
    assert {"bonjour", "merci", "qu", "l"} <= terms.STOP_WORDS_FR
    assert "livraison" not in terms.STOP_WORDS


def test_content_words_drop_stop_words_of_both_languages():
    assert terms.words("She said the parcel never came") == ["said", "parcel", "never", "came"]
    assert terms.words("Bonjour, ma commande n'est jamais arrivée") == ["command", "jamai", "arrive"]


@pytest.mark.parametrize(
    ("word", "cut"),
    [("l'avion", "avion"), ("qu'il", "il"), ("jusqu’ici", "ici"), ("presqu'île", "île"), ("quoiqu'il", "il")],
)
def test_one_elision_rule(word, cut):
    assert terms.cut_elision(word) == cut


def test_the_inbox_cuts_the_elisions_the_query_language_cuts():
    # The inbox's copy knew neither "presqu'" nor "quoiqu'" (it kept "presqu'ile" as one word); the
    # query language's longer list is kept, so a reply and a query read "presqu'île" alike.
    assert terms.words("La presqu'île") == ["ile"]
    assert [t.raw for t in query.tokenize("la presqu'île")] == ["la", "île"]


def test_similarity_of_copies_and_strangers():
    same, other = similarities(
        "Livraison offerte ce week-end", ["Livraison offerte ce week-end", "Quel temps"]
    )
    assert same == pytest.approx(1.0)
    assert other == pytest.approx(0.0)


def test_similarity_folds_accents():
    # Publishing's copy kept accents, the inbox's folded them: folded, so "déjà livré" is a copy of
    # "deja livre" for both.
    assert similarities("Déjà livré", ["deja livre"])[0] == pytest.approx(1.0)


def test_similarity_of_nothing_is_zero():
    assert similarities("", ["a text"]) == [0.0]
    assert similarities("a text", []) == []
    assert similarities("a text", ["   "]) == [0.0]


def test_similarity_on_given_terms():
    scores = similarities(
        "commande livraison", ["livraison de la commande", "mot de passe"], analyzer=terms.words
    )
    assert scores[0] > 0.5
    assert scores[1] == 0.0
