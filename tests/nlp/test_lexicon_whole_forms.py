"""Lexicon entries that were prefixes matched ordinary words ("cocktail" was sexual, "randonnée
pédestre" a slur): they are whole forms now, and the words they are meant for still match."""

from __future__ import annotations

import pytest

from palabre.nlp.lexicon import load_lexicon


def categories(text: str) -> set[str]:
    return {span.category for span in load_lexicon().match(text).spans()}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Un cocktail offert pour toute commande", "sexual"),
        ("There was a cockroach in my hotel room", "sexual"),  # dehumanising when said of people
        ("Randonnée pédestre dimanche, départ du magasin", "slur"),
        ("A pedestrian crossing in front of the store", "slur"),
        ("Réservé sur Traveloka, livré à l'hôtel", "slur"),
        ("Des godets de fleurs pour le balcon", "sexual"),
        ("Our shop in Pornic opens on Saturday", "sexual"),
        ("That's freaking awesome", "insult"),
        ("The ad was a bit creepy", "insult"),
        ("My cuckoo clock stopped", "insult"),
        ("The pussycat doll costume is sold out", "sexual"),
        ("Singer and songwriter, I loved your concert", "dehumanizing"),
    ],
)
def test_ordinary_words_are_not_listed(text, category):
    assert category not in categories(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("suck my cock", "sexual"),
        ("cocksucker", "sexual"),
        ("sale pédé", "slur"),
        ("les pédés", "slur"),
        ("un travelo", "slur"),
        ("un gode", "sexual"),
        ("free porn here", "sexual"),
        ("pornographie", "sexual"),
        ("you freak", "insult"),
        ("what a creep", "insult"),
        ("cucks", "insult"),
        ("les singes", "dehumanizing"),
    ],
)
def test_the_words_meant_still_match(text, category):
    assert category in categories(text)


# Words whose doubled letter is their spelling (spellings.txt): the skeleton "baise" of "baisse"
# made a fall in price sexual, "salle" (a room) was "sale" (dirty), "rapping" was "raping".
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Vous remboursez la différence si le prix baisse après l'achat ?", "sexual"),
        ("Le prix a baissé après mon achat", "sexual"),
        ("La salle de bain de l'hôtel était propre", "neg_attribute"),
        ("Une tonne de colis en retard", "spam"),
        ("The rapper was rapping on stage", "sexual"),
        ("Great food, we'll come back", "profanity"),
        ("The goddess collection is back", "sexual"),
    ],
)
def test_a_doubled_letter_that_is_spelling_is_no_elongation(text, category):
    assert category not in categories(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("je vais te baiser", "sexual"),
        ("baiiise ta mère", "sexual"),
        ("sale con", "neg_attribute"),
        ("salloppe", "insult"),
        ("he raped her", "sexual"),
    ],
)
def test_elongations_of_listed_words_still_match(text, category):
    assert category in categories(text)


def test_french_chats_greeting_is_no_profanity():
    """LDNOOBW's "sl^t" folds to "slt", French chat's "salut" (and the TV show #SLT)."""
    assert "profanity" not in categories("slt ça va ? Retrouvez-les ce soir dans #SLT")
    assert "insult" in categories("what a slut")


@pytest.mark.parametrize(
    "text",
    [
        "Pouvez-vous m'envoyer la notice ? Je l'ai mise dans un coin et perdue",
        "J'ai acheté le sac cabas en mai, la anse s'est décousue",
        "Le pdg de votre enseigne était à la radio ce matin",
        "Vendu 89 € en magasin, mon panier affiche 79 €",
        "C'était le calvaire pour monter l'armoire, trop cher pour ce que c'est",
        "Des punaises de lit à l'hôtel, votre housse protège aussi de ça ?",
        "Is this sad lamp for a kid's room? Sit it by the bed, food for thought",
    ],
)
def test_ordinary_words_of_the_ldnoobw_lists_are_no_profanity(text):
    """LDNOOBW entries that are ordinary words (lexicons/ldnoobw_skip.txt): "coin", "envoyer",
    "panier", "sac", "mai", "pdg", "cher" raised the toxicity and identity-attack scores of
    ordinary French messages."""
    assert "profanity" not in categories(text)


@pytest.mark.parametrize("text", ["espèce de connard", "quelle salope", "fuck off", "nique ta mère"])
def test_the_lists_profanity_still_counts(text):
    assert categories(text) & {"profanity", "insult", "sexual"}
