"""The sentiment model reads intent's complaint, crisis and praise cues beside its words: French
messages to a brand, which its tweets seldom resemble, get the tone a community manager reads."""

import shutil

import numpy as np
import pytest

from palabre.nlp.classifiers import MODELS_DIR, Classifiers, load_models
from palabre.nlp.intent import SENTIMENT_CUES, sentiment_cues
from palabre.nlp.normalize import normalize


@pytest.fixture(scope="module")
def models():
    return load_models()


def cues(text: str) -> dict[str, int]:
    return dict(zip(SENTIMENT_CUES, sentiment_cues(text, normalize(text).text).counts, strict=True))


def plain_question(text: str) -> bool:
    return sentiment_cues(text, normalize(text).text).plain_question


def test_cues_are_counted_on_the_folded_text_without_harmless_idioms():
    assert cues("Colis arrivé abîmé, je suis FURIEUX, remboursez-moi") == {
        "complaint": 3,
        "crisis": 0,
        "praise": 0,
    }
    assert cues("Brûlure sur la commode") == {"complaint": 0, "crisis": 1, "praise": 0}
    assert cues("Génial, merci ❤") == {"complaint": 0, "crisis": 0, "praise": 3}
    # "Jamais déçue" is praise, not a complaint; "tuer le temps" no crisis.
    assert cues("Jamais déçue, je viens tuer le temps chez vous")["complaint"] == 0


def test_a_plain_question_is_one_without_complaint_or_crisis_cue():
    assert plain_question("Quelles sont vos horaires pendant les fêtes ?")
    assert plain_question("Est-ce que le canapé existe en vert")
    assert not plain_question("Pourquoi personne ne répond au service client ?")
    assert not plain_question("Why is my order still not here?")
    assert not plain_question("La lampe a pris feu, que faire ?")
    assert not plain_question("Merci pour la livraison.")


@pytest.mark.parametrize(
    "text",
    [
        "Y a-t-il un parking près de votre boutique de Lille ?",
        "Combien de temps dure la batterie de l'aspirateur V8 ?",
    ],
)
def test_a_plain_question_is_not_read_negative(models, text):
    label, probabilities = models.sentiment(text, "fr")
    assert label != "negative"
    # The probabilities stay the model's: only the label says it is not sure enough.
    assert abs(sum(probabilities.values()) - 1) < 1e-3


def test_a_question_read_negative_is_still_routed_as_a_question():
    """This question reads negative at 0.70, on the rule's own bar (PLAIN_QUESTION_NEGATIVE): 0.7000
    before session 22's retrain, 0.7017 after it (the model's cue counts changed), so its
    sentiment label is the model's coin toss (8 of intent_fr.csv's 74 questions read negative, 7
    before). What the inbox does with it must not be: it stays a question."""
    from palabre.nlp.triage import triage_many

    found = triage_many(["Quelle est la différence entre le modèle Pro et le modèle Plus ?"], ["fr"])[0]
    assert found.intent.label == "question"
    assert found.sentiment_scores["negative"] < 0.9


def test_a_question_asked_in_anger_stays_negative(models):
    assert models.sentiment("Pourquoi personne ne répond au service client ? C'est honteux", "fr")[0] == (
        "negative"
    )


@pytest.mark.parametrize(
    "text",
    [
        "brûlure sur la commode, je suis furieuse",
        "une rayure profonde sur le plateau",
        "Colis arrivé abîmé, je suis furieux",
        "Livraison en retard, j'en ai marre",
        "Table livrée abîmée, pied cassé. Je suis déçue.",
    ],
)
def test_a_french_complaint_reads_negative(models, text):
    assert models.sentiment(text, "fr")[0] == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "Super accueil au magasin de Lyon, merci !",
        # "rayée" (striped) is no scratch.
        "Ma chemise rayée est parfaite",
    ],
)
def test_praise_reads_positive(models, text):
    assert models.sentiment(text, "fr")[0] == "positive"


def test_models_trained_before_the_cues_still_read_sentiment(tmp_path):
    """An installation's own `palabre train --out` artifacts from before the cues load and read
    sentiment from the words alone."""
    for name in ("config.json", "weights.npz"):
        shutil.copy(MODELS_DIR / name, tmp_path / name)
    with np.load(tmp_path / "weights.npz") as z:
        arrays = {key: z[key] for key in z.files if key != "S_cues"}
    np.savez_compressed(tmp_path / "weights.npz", **arrays)
    older = Classifiers(tmp_path)
    label, probabilities = older.sentiment("J'adore ce produit, merci, génial !", "fr")
    assert label == "positive"
    assert abs(sum(probabilities.values()) - 1) < 1e-3
