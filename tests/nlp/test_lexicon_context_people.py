"""Words that hurt only when said of people (`needs_person` in the context lexicons): said of a
thing they are no reason to hold, and nothing is masked, so the models still read them."""

from __future__ import annotations

import pytest

from palabre.nlp.lexicon import Span, load_lexicon, read_context
from palabre.nlp.normalize import normalize


def reading(text: str, lang: str | None = None):
    norm = normalize(text)
    spans = load_lexicon().match(norm).spans() + [
        Span(s.start, s.end, "target", s.term, s.category)
        for s in load_lexicon("targets").match(norm).spans()
    ]
    return read_context(norm, spans, lang)


def unaimed(text: str, lang: str | None = None) -> set[str]:
    return {text[span.start : span.end].lower() for span in reading(text, lang).unaimed}


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Votre nouveau chargeur est dangereux, il a chauffé.", "dangereux"),
        ("Je déteste attendre 40 minutes au téléphone.", "je déteste"),
        ("Les frais de port sont une honte.", "une honte"),
        ("Une salade au thon délicieuse, merci.", "thon"),
        ("J'ai été victime d'une arnaque sur votre site.", "victime"),
        ("Il y avait des cafards dans la cuisine de l'hôtel.", "cafards"),
        ("Que des bons produits chez vous, merci !", "que des"),
        ("Le boudin blanc de Noël est top.", "boudin"),  # "blanc" here is no group of people
        ("This update is useless, the app still crashes.", "useless"),
        ("I hate waiting on hold for an hour.", "i hate"),
    ],
)
def test_said_of_a_thing_it_is_unaimed(text, word):
    assert word in unaimed(text)
    assert not reading(text).masked or word not in {text[a:b].lower() for a, b in reading(text).masked}


@pytest.mark.parametrize(
    "text",
    [
        "Tu es dangereux, je vais porter plainte.",  # said to someone
        "Espèce de thon.",
        "Le livreur est un porc.",  # said of a person of the staff
        "Vous êtes des incapables.",
        "Je déteste les femmes.",  # said of a group
        "Il n'y a rien au monde que je déteste plus qu'une femme.",
        "Les immigrés sont dangereux.",
        "Ces gens sont des cafards.",
        "You are useless.",
        "I hate these people.",
    ],
)
def test_said_of_people_it_stays_aimed(text):
    assert not reading(text).unaimed


def test_unaimed_words_are_not_excused_nor_masked():
    text = "Cette pub est débile."
    read = reading(text, "fr")
    assert unaimed(text, "fr") == {"débile"}
    assert not read.excused
    assert not read.masked


def test_a_group_shouted_in_capitals_is_still_a_group():
    assert not reading("JE DÉTESTE LES FEMMES").unaimed
    assert not reading("IMMIGRÉS DANGEREUX").unaimed  # plural, no determiner
