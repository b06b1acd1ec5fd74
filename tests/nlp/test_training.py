"""Pieces of the reproducible training: TF-IDF weighting shared with inference, the dev threshold."""

import numpy as np
import pytest

from palabre.nlp.classifiers import load_models
from palabre.nlp.features import DENSE_FEATURES, FeatureConfig, Featurizer
from palabre.nlp.training.fit import idf_weights
from palabre.nlp.training.spam import f1_threshold


def test_config_round_trip_and_old_configs():
    config = FeatureConfig(dense_scale=0.3, sublinear=True)
    assert FeatureConfig.from_dict(config.as_dict()) == config
    old = {"word_bits": 18, "char_bits": 18, "char_ngrams": [2, 5], "dense_scale": 1.0}
    assert FeatureConfig.from_dict(old).sublinear is False


def test_idf_weighs_rare_columns_more_and_leaves_dense_alone():
    config = FeatureConfig(word_bits=12, char_bits=12, sublinear=True)
    texts = ["le colis", "le retard", "le colis est la", "bonjour"]
    idf = idf_weights(config, texts)
    assert idf.shape == (config.n_features,)
    assert np.all(idf[-len(DENSE_FEATURES) :] == 1.0)
    plain = Featurizer(config)
    word = plain._word_grams("le")[0]
    rare = plain._word_grams("bonjour")[0]
    import zlib

    col = lambda g: zlib.crc32(g.encode()) & ((1 << config.word_bits) - 1)  # noqa: E731
    assert idf[col(rare)] > idf[col(word)]
    # The weights change the vectors: inference and training share this code.
    x_plain, _ = plain.transform(["le colis bonjour"])
    x_idf, _ = Featurizer(config, idf).transform(["le colis bonjour"])
    assert not np.allclose(x_plain.values, x_idf.values)


def test_f1_threshold_separates_a_clean_split():
    z = np.array([-2.0, -1.0, -0.5, 0.4, 1.0, 3.0])
    y = np.array([0, 0, 0, 1, 1, 1])
    t = f1_threshold(z, y)
    assert -0.5 < t <= 0.4 or np.isclose(t, 0.4)
    assert ((z >= t) == y.astype(bool)).all()


def test_shipped_models_use_their_idf_and_threshold():
    models = load_models()
    assert models.featurizer.idf is not None
    assert models.feature_config.sublinear
    # The spam head's 0.5 point sits at the dev-F1 threshold.
    spam = models.score("FREE entry! Call 08000930705 to claim your £1000 prize now")["spam"]
    assert spam > 0.5
    assert models.score("Bonjour, le canapé existe-t-il en vert ?")["spam"] < 0.5


def test_an_unsure_sentiment_is_neutral():
    from palabre.nlp.classifiers import SENTIMENT_UNSURE

    found = load_models().sentiment_many(["Question 1 : vous livrez le samedi ?"])
    assert found[0][0] == "neutral" and max(found[0][1].values()) < SENTIMENT_UNSURE
    for label, scores in load_models().sentiment_many(
        ["Question 1 : vous livrez le samedi ?", "Nul, nul, nul !"]
    ):
        if max(scores.values()) < SENTIMENT_UNSURE:
            assert label == "neutral"
        else:
            assert label == max(scores, key=scores.get)


def test_fit_experts_learns_each_sources_spam_and_routes_by_text():
    import scipy.sparse as sp

    from palabre.nlp.training.spam import fit_experts, sigmoid

    # Columns 0-2 mark SMS-like, comment-like and other texts; in SMS column 3 is spam, in comments
    # column 4 (and the words "subscribe to my channel"); the general head gets both wrong.
    rng = np.random.default_rng(0)

    def rows(n):
        src = np.array(["sms_spam_en"] * n + ["youtube_spam_en"] * n + ["sentiment_fr"] * n)
        y = np.concatenate([rng.integers(0, 2, 2 * n), np.zeros(n, int)])
        X = np.zeros((3 * n, 6))
        for k in range(3):
            X[k * n : (k + 1) * n, k] = 1.0
        X[:n, 3] = y[:n]
        X[n : 2 * n, 4] = y[n : 2 * n]
        X[:, 5] = rng.random(3 * n) * 0.1
        words = ["subscribe to my channel now", "love this song so much"]
        texts = [f"text {i}" for i in range(n)] + [words[1 - v] for v in y[n : 2 * n]] + ["bonjour"] * n
        return sp.csr_matrix(X), y, src, texts

    Xtr, ytr, str_, ttr = rows(120)
    Xdv, ydv, sdv, tdv = rows(40)
    general = np.where(sdv == "sentiment_fr", 0.1, 0.5 - 0.1 * (2 * ydv - 1))
    found = fit_experts(Xtr, ytr, str_, ttr, Xdv, ydv, sdv, tdv, general)
    assert found["chosen"]["spam_sms"]["dev_mean_f1"] == 1.0
    assert found["chosen"]["spam_comment"]["vocabulary_terms"] > 0
    col = found["columns"]
    assert col["spam_sms"][0][3] > 0 and col["spam_comment"][0][4] > 0

    def route(name):
        return sigmoid(Xdv @ col[name][0] + col[name][1])

    assert (route("spam_sms_route")[:40] > 0.5).all() and (route("spam_sms_route")[40:] < 0.5).all()
    comment = route("spam_comment_route")
    assert (comment[40:80] > 0.5).all() and (comment[80:] < 0.5).all()


def test_shipped_spam_score_mixes_the_experts_by_route():
    from palabre.nlp.classifiers import COMMENT_ROUTE_MIN, COMMENT_UNSURE, _sigmoid

    models = load_models()
    assert {"spam_comment", "spam_comment_route", "spam_sms", "spam_sms_route"} <= set(models.heads)
    texts = [
        "URGENT! You have won a 1 week FREE membership in our £100,000 Prize Jackpot! Txt the word: CLAIM to No: 81010",
        "Hey guys please check out my new channel and subscribe, thanks!! http://www.youtube.com/watch?v=abc",
        "Bonjour, ma commande ML-47002 n'est pas arrivée à Paris 75011, pouvez-vous vérifier ?",
    ]
    X, _ = models.featurizer.transform(texts)
    Z = X.dot(models._W) + models._b
    P = _sigmoid(models._platt[:, 0] * Z + models._platt[:, 1])
    col = {name: P[:, models.heads.index(name)] for name in models.heads}
    assert col["spam_sms_route"][0] > 0.5 > col["spam_sms_route"][2]
    assert col["spam_comment_route"][1] > 0.5 > col["spam_comment_route"][2]
    scores = models.score_many(texts)
    # Only the six labels leave the classifiers: no other field named like spam.
    assert all(
        set(s) == {"spam", "toxicity", "insult", "identity_attack", "threat", "sexual"} for s in scores
    )
    assert scores[0]["spam"] > 0.5 and scores[1]["spam"] > 0.5 > scores[2]["spam"]
    # The comment expert is the mean of its hashed head and the vocabulary model of the raw text.
    vocab = _sigmoid(models._comment.dot(texts, models._comment_coef) + models._comment_b)
    lo, hi = COMMENT_UNSURE
    consulted = (col["spam_comment_route"] >= COMMENT_ROUTE_MIN) & (col["spam"] > lo) & (col["spam"] < hi)
    r = np.where(consulted, col["spam_comment_route"], 0.0)
    mixed = r * (col["spam_comment"] + vocab) / 2 + (1 - r) * col["spam"]
    expected = col["spam_sms_route"] * col["spam_sms"] + (1 - col["spam_sms_route"]) * mixed
    assert np.allclose([s["spam"] for s in scores], np.round(expected, 4), atol=1e-4)


def test_the_comment_expert_does_not_dilute_a_confident_general_spam_head():
    """Blatant web spam reads a little like a video's comment (route 0.77); the comment expert,
    fitted on YouTube comments alone, is less sure of it than the general head. Mixing it in took
    0.996 down to 0.86 ("hold"); where the general head is sure it stands alone."""
    from palabre.nlp.classifiers import COMMENT_UNSURE, _sigmoid

    models = load_models()
    text = "Buy cheap viagra online now!!! Best price http://cheap-pills.example.xyz"
    X, _ = models.featurizer.transform([text])
    P = _sigmoid(models._platt[:, 0] * (X.dot(models._W) + models._b) + models._platt[:, 1])
    col = {name: float(P[0, models.heads.index(name)]) for name in models.heads}
    assert col["spam"] >= COMMENT_UNSURE[1] and col["spam_comment_route"] > 0.5
    expected = col["spam_sms_route"] * col["spam_sms"] + (1 - col["spam_sms_route"]) * col["spam"]
    spam = models.score_many([text])[0]["spam"]
    assert spam == pytest.approx(expected, abs=1e-4)
    assert spam >= 0.99


def test_regularisation_is_chosen_against_ordinary_talk_of_the_same_language():
    """A head that ranks a labelled set's positives above its own negatives but also above ordinary
    talk of that language scores lower: the French tweets that hold no positive join mlma_fr's
    negatives, the English comments join the English set's (session 22)."""
    from palabre.nlp.training.fit import mean_auc_against_ordinary_talk

    sources = np.array(["mlma_fr"] * 4 + ["sentiment_fr"] * 2 + ["mlma_en"] * 4 + ["youtube_spam_en"] * 2)
    y = np.array([1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0])
    within = np.array([0.9, 0.8, 0.1, 0.2, 0.1, 0.1, 0.9, 0.8, 0.1, 0.2, 0.1, 0.1])
    assert mean_auc_against_ordinary_talk(y, within, sources) == 1.0
    # Ordinary French read above mlma_fr's positives costs the French set alone.
    french_noise = within.copy()
    french_noise[4:6] = 0.95
    assert mean_auc_against_ordinary_talk(y, french_noise, sources) == pytest.approx((0.5 + 1.0) / 2)
    # A set with no positive is never scored alone (its AUC does not exist).
    assert mean_auc_against_ordinary_talk(np.zeros(2, int), np.array([0.1, 0.2]), sources[4:6]) == 0.0
