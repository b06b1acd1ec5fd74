"""A listed word with letters hidden by asterisks is read as that word (session 24): "b*tard",
"enc*lé de ta race", "fils de p***" were published. One asterisk stands for one letter, so the
offsets of the text are kept and the reason shows what the author wrote. A footnote's asterisk, a
word that begins with one and a star rating are ordinary."""

from __future__ import annotations

import pytest

from palabre.moderation.engine import PUBLISH, ModerationContext, moderate_many
from palabre.nlp.lexicon import load_lexicon


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("b*tard", "insult"),
        ("c*nnard", "insult"),
        ("sal*pe", "insult"),
        ("fils de p***", "insult"),
        ("f*ck you", "insult"),
        ("enc*lé de ta race", "insult"),
    ],
)
def test_a_masked_word_is_read_as_the_listed_word(text, category):
    spans = load_lexicon("moderation").match(text).spans()
    assert category in {span.category for span in spans}
    # what the reason quotes is the author's own spelling
    assert any(text[span.start : span.end].count("*") for span in spans)


@pytest.mark.parametrize(
    "text",
    ["Livraison offerte*", "*Nouveau* dans votre magasin", "Un hôtel 5* au top", "Mr. Sm*th a appelé"],
)
def test_footnotes_emphasis_and_ratings_are_no_masked_word(text):
    assert load_lexicon("moderation").match(text).spans() == []


def test_masked_insults_are_held_and_masked_frustration_is_not():
    insults = ["b*tard", "enc*lé de ta race", "fils de p***", "t'es un gros c*nnard"]
    frustration = ["P*tain de train encore en retard", "Le colis est arrivé, m*rde il est cassé"]
    decisions = moderate_many(insults + frustration, [ModerationContext(lang="fr")] * 6)
    for text, decision in zip(insults, decisions[:4], strict=True):
        assert decision.action != PUBLISH, (text, decision.scores)
    # as their unmasked spelling is: a complaint with a swear word is published
    for text, decision in zip(frustration, decisions[4:], strict=True):
        assert decision.action == PUBLISH, (text, decision.scores)
