"""Triage: the intent corrects a sentiment the model got from an emoji."""

from palabre.inbox.priority import URGENT, priority
from palabre.nlp.triage import triage_many


def test_crying_wish_to_buy_is_not_negative_nor_urgent():
    [found] = triage_many(["😭 would love to order"], ["en"])
    assert found.intent.label == "lead"
    assert found.sentiment != "negative"
    # The worst case of the night it paged someone: a big account, waiting for hours.
    score, _ = priority(
        sentiment=found.sentiment,
        sentiment_scores=found.sentiment_scores,
        intent=found.intent.label,
        followers=2_000_000,
        waiting_minutes=600,
    )
    assert score < URGENT


def test_question_with_praise_is_a_question():
    found = triage_many(
        ["Super, vous livrez en Belgique ?", "Love it! Is it available in blue?"], ["fr", "en"]
    )
    assert [t.intent.label for t in found] == ["question", "question"]


def test_a_real_complaint_stays_negative():
    [found] = triage_many(["Toujours pas reçu ma commande, aucune réponse du SAV, inadmissible"], ["fr"])
    assert found.intent.label == "complaint"


def test_an_idiom_with_an_unsure_negative_tone_is_no_complaint():
    [found] = triage_many(["Je vais tuer le temps en magasin samedi"], ["fr"])
    assert found.intent.label not in ("complaint", "crisis")


def test_intent_reads_the_models_normalised_text_as_its_own():
    """Triage hands intent the text the models normalised (one normalisation a text): the intents
    are those of intent normalising it itself."""
    from palabre.nlp.classifiers import load_models
    from palabre.nlp.intent import detect_intent

    texts = [
        "J'ÂDORE 😍 vos l@mpes, merci !!",
        "Colis arrivé abîmé, je suis furieux",
        "Est-ce que vous livrez en Corse ?",
        "La lampe a pris feu hier soir",
        "Nous voudrions un devis pour nos 12 bureaux",
        "Why is my order still not here?",
    ]
    readings = load_models().triage_readings(texts)
    for text, (label, scores, normalized) in zip(texts, readings, strict=True):
        assert detect_intent(text, label, scores, normalized) == detect_intent(text, label, scores)
    assert [t.intent.label for t in triage_many(texts)] == [
        "praise",
        "complaint",
        "question",
        "crisis",
        "lead",
        "complaint",
    ]
