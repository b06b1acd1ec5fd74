"""Pieces of the reproducible training: TF-IDF weighting shared with inference, the dev threshold."""

import numpy as np

from palabre.nlp.classifiers import load_models
from palabre.nlp.features import DENSE_FEATURES, FeatureConfig, Featurizer
from palabre.nlp.training import _f1_threshold, _idf


def test_config_round_trip_and_old_configs():
    config = FeatureConfig(dense_scale=0.3, sublinear=True)
    assert FeatureConfig.from_dict(config.as_dict()) == config
    old = {"word_bits": 18, "char_bits": 18, "char_ngrams": [2, 5], "dense_scale": 1.0}
    assert FeatureConfig.from_dict(old).sublinear is False


def test_idf_weighs_rare_columns_more_and_leaves_dense_alone():
    config = FeatureConfig(word_bits=12, char_bits=12, sublinear=True)
    texts = ["le colis", "le retard", "le colis est la", "bonjour"]
    idf = _idf(config, texts)
    assert idf.shape == (config.n_features,)
    assert np.all(idf[-len(DENSE_FEATURES) :] == 1.0)
    plain = Featurizer(config)
    word = plain._grams("le")[0][0]
    rare = plain._grams("bonjour")[0][0]
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
    t = _f1_threshold(z, y)
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


def test_fit_sms_expert_learns_what_sms_spam_looks_like_and_routes_by_text():
    import scipy.sparse as sp

    from palabre.nlp.training import _fit_sms_expert

    # Column 0 marks SMS-like texts; in SMS, column 1 is spam; elsewhere column 2 is spam and
    # column 1 is ordinary talk, which one model over all rows cannot separate with one weight.
    rng = np.random.default_rng(0)

    def rows(n):
        src = np.array(["sms_spam_en"] * n + ["youtube_spam_en"] * n)
        y = rng.integers(0, 2, 2 * n)
        X = np.zeros((2 * n, 4))
        X[:n, 0] = 1.0
        X[:n, 1] = y[:n]
        X[n:, 2] = y[n:]
        X[n:, 1] = 1 - y[n:]
        X[:, 3] = rng.random(2 * n) * 0.1
        return sp.csr_matrix(X), y, src

    Xtr, ytr, str_ = rows(200)
    Xdv, ydv, sdv = rows(60)
    general = np.where(sdv == "sms_spam_en", 0.5 - 0.1 * (2 * ydv - 1), 0.5 + 0.4 * (2 * ydv - 1))
    found = _fit_sms_expert(Xtr, ytr, str_, Xdv, ydv, sdv, general)
    expert, route = found["spam_sms"], found["spam_sms_route"]
    assert expert["coef"][1] > 0 and route["coef"][0] > 0
    assert found["dev_mean_f1"] == 1.0


def test_shipped_spam_score_mixes_the_sms_expert_by_route():
    models = load_models()
    assert {"spam_sms", "spam_sms_route"} <= set(models.heads)
    texts = [
        "URGENT! You have won a 1 week FREE membership in our £100,000 Prize Jackpot! Txt the word: CLAIM to No: 81010",
        "Bonjour, ma commande ML-47002 n'est pas arrivée à Paris 75011, pouvez-vous vérifier ?",
    ]
    X, _ = models.featurizer.transform(texts)
    Z = X.dot(models._W) + models._b
    route = 1.0 / (1.0 + np.exp(-Z[:, models.heads.index("spam_sms_route")]))
    assert route[0] > 0.5 > route[1]
    scores = models.score_many(texts)
    # Only the six labels leave the classifiers: no other field named like spam.
    assert all(
        set(s) == {"spam", "toxicity", "insult", "identity_attack", "threat", "sexual"} for s in scores
    )
    assert scores[0]["spam"] > 0.5 > scores[1]["spam"]
