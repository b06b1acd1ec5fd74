from pathlib import Path

import pytest

from palabre.nlp.classifiers import LABELS, MODELS_DIR, load_models


@pytest.fixture(scope="module")
def models():
    return load_models()


def test_artifacts_are_small():
    total = sum(p.stat().st_size for p in MODELS_DIR.iterdir() if p.is_file())
    lexicons = sum(p.stat().st_size for p in (Path(MODELS_DIR).parent / "lexicons").iterdir())
    assert total + lexicons < 30 * 1024 * 1024


def test_scores_in_unit_interval(models):
    texts = ["", "ok", "😂" * 50, "a" * 100_000, "\ud800 bad", "Bonjour à tous", "you are an idiot"]
    for scores in models.score_many(texts):
        assert set(scores) == set(LABELS)
        assert all(0.0 <= v <= 1.0 for v in scores.values())


def test_single_and_batch_agree(models):
    texts = ["Merci pour la livraison rapide", "t'es qu'une grosse salope"]
    batch = models.score_many(texts)
    assert [models.score(t) for t in texts] == batch


def test_toxicity_ordering_fr(models):
    clean = models.score("Merci beaucoup pour votre aide, le colis est bien arrivé")
    rude = models.score("Ferme ta gueule espèce de connard")
    assert rude["toxicity"] > 0.5 > clean["toxicity"]
    assert rude["insult"] > clean["insult"]


def test_toxicity_ordering_en(models):
    clean = models.score("Thanks for the quick answer, have a nice day")
    rude = models.score("shut up you stupid bitch")
    assert rude["toxicity"] > 0.5 > clean["toxicity"]


def test_obfuscation_does_not_hide_insults(models):
    plain = models.score("espèce de connard")["insult"]
    hidden = models.score("espèce de c.0.n.n.a.r.d")["insult"]
    assert hidden > 0.5 and abs(plain - hidden) < 0.3


def test_identity_attack_fr(models):
    hate = models.score("Les musulmans sont tous des terroristes, dehors !")
    neutral = models.score("Les musulmans célèbrent la fin du ramadan ce soir")
    assert hate["identity_attack"] > neutral["identity_attack"]
    assert hate["identity_attack"] > 0.5


def test_threat(models):
    assert models.score("je sais où tu habites, je vais te buter")["threat"] > 0.8
    assert models.score("I will kill you")["threat"] > 0.8
    assert models.score("Bonne journée à vous")["threat"] < 0.2


def test_sexual(models):
    assert models.score("envoie tes nudes salope, suce ma bite")["sexual"] > 0.5
    assert models.score("Le service client est très réactif")["sexual"] < 0.2


def test_spam_fr_en(models):
    assert (
        models.score("Gagnez 3000€ par mois avec le bitcoin, contactez-moi sur WhatsApp +33 6 12 34 56 78")[
            "spam"
        ]
        > 0.5
    )
    assert models.score("Check out my channel and subscribe!! http://bit.ly/xx")["spam"] > 0.5
    assert models.score("Bonjour, ma commande n'est pas arrivée")["spam"] < 0.5
    assert models.score("I love this song so much")["spam"] < 0.5


def test_explain_spans_point_into_original(models):
    text = "Tu es un C0NNNARD et je vais te buter"
    spans = models.explain(text, "fr")
    cats = {s.category for s in spans}
    assert {"insult", "threat"} <= cats
    assert any(text[s.start : s.end] == "C0NNNARD" for s in spans if s.category == "insult")


def test_sentiment(models):
    label, probs = models.sentiment("J'adore ce produit, merci, génial !", "fr")
    assert label == "positive"
    assert abs(sum(probs.values()) - 1) < 1e-3
    assert models.sentiment("This is terrible, worst service ever, I hate it", "en")[0] == "negative"


def test_version_is_stable(models):
    assert models.version == load_models().version
    assert models.version.startswith("palabre-moderation-")
