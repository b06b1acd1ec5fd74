"""Rule-based intent, French and English, with the sentiment it leans on."""

import pytest

from palabre.nlp.intent import detect_intent


@pytest.mark.parametrize(
    ("text", "sentiment", "intent"),
    [
        ("Le canapé Oslo existe-t-il en vert ?", "neutral", "question"),
        ("Do you ship to Belgium?", "neutral", "question"),
        ("Toujours pas reçu ma commande, aucune réponse du SAV, inadmissible", "negative", "complaint"),
        ("Still waiting for my refund, worst customer service ever", "negative", "complaint"),
        ("Bravo pour la livraison, le buffet est superbe !", "positive", "praise"),
        ("Love the new lamp, thanks!", "positive", "praise"),
        ("Vous faites des devis pour notre hôtel ? Il nous faudrait 40 chaises", "neutral", "lead"),
        ("Do you offer wholesale prices for our office?", "neutral", "lead"),
        ("Ma lampe Nova a pris feu, mon fils s'est brûlé, c'est dangereux !", "negative", "crisis"),
        ("Voilà.", "neutral", "other"),
    ],
)
def test_intents(text, sentiment, intent):
    assert detect_intent(text, sentiment).label == intent


def test_thanks_in_advance_is_not_praise():
    assert detect_intent("Quel est le délai de livraison ? Merci d'avance", "neutral").label == "question"


def test_scores_are_shares():
    scores = detect_intent("Merci, mais toujours pas reçu ma commande ?", "negative").scores
    assert abs(sum(scores.values()) - 1.0) < 0.01 or sum(scores.values()) == 0
