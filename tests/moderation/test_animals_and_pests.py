"""A pet shop's and a garden centre's customers speak of parasites, vermin and female animals
(session 23): "Mon chien a des parasites, quel vermifuge ?" was held at 0.78 toxicity, "Ma chienne
est malade depuis qu'elle mange vos croquettes" at 0.60, as were 8 of 10 such messages written
first and 2 of 10 written after the context lines (lexicons/context_fr.tsv, `harmless`: the word
said of an animal, a plant or what treats them). Said of people, the same words are still held.
Real engine, shipped models."""

from __future__ import annotations

import pytest

from .conftest import assert_published, not_published

# Written first; the context lines were chosen on them.
WRITTEN_FIRST = [
    "Mon chien a des parasites, quel vermifuge ?",
    "Des parasites sur mes tomates, quel traitement conseillez-vous ?",
    "Votre traitement contre les parasites n'a pas marché sur mon chat",
    "Mon chat a attrapé des parasites après la pension",
    "Les parasites ont envahi mon potager",
    "Mes poules ont des parasites, que faire ?",
    "Le collier anti-parasites ne tient pas sur mon chien",
    "Mon rosier est couvert de parasites",
    "Votre pipette n'a rien fait, mon chiot a toujours des parasites",
    "Ma chienne est malade depuis qu'elle mange vos croquettes",
    "La truie de la ferme pédagogique a eu dix porcelets, les enfants ont adoré",
]
# Written after them, never used to choose: 2 held before.
WRITTEN_AFTER = [
    "Notre chienne a vomi après vos croquettes au saumon",
    "Votre spray n'a pas tué les puces, mon chat en est toujours plein",
    "Les pucerons ont ravagé mes rosiers malgré votre traitement",
    "Quel produit contre les nuisibles pour un poulailler ?",
    "Mes chevaux ont des vers, quel vermifuge prendre ?",
    "Le traitement anti-parasites pour chiot est en rupture ?",
    "Ma vieille chienne ne supporte plus ces croquettes",
    "Mon potager est envahi par les limaces et les parasites",
    "La chienne du voisin a mis bas, vous vendez des paniers pour chiots ?",
    "Mon aquarium est plein de parasites depuis votre nouvelle nourriture",
]
SAID_OF_PEOPLE = [
    "Ces parasites qui vivent des aides sociales",
    "Les immigrés sont des parasites",
    "Bande de parasites, vous volez vos clients",
    "Vos employés sont des parasites",
    "Les fonctionnaires sont des parasites qui vivent sur notre dos",
    "Ta mère la chienne",
    "T'es qu'une chienne, ferme-la",
    "Sale truie, personne ne veut de toi",
    "Ces gens sont la vermine de ce pays",
    "Vos vendeurs sont des parasites qui ne servent à rien",
    "Les parasites de ce gouvernement ont envahi le pays",
]


@pytest.mark.parametrize("texts", [WRITTEN_FIRST, WRITTEN_AFTER], ids=["first", "after"])
def test_pests_and_animals_of_customers_are_published(texts):
    assert_published(texts, "fr")


def test_the_same_words_said_of_people_are_still_held():
    not_published(SAID_OF_PEOPLE, "fr")
