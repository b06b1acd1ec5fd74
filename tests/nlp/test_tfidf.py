"""The vocabulary TF-IDF of the comment spam expert computes what scikit-learn computes."""

import numpy as np

from palabre.nlp.tfidf import char_grams, fit_vocabulary

TRAIN = [
    "Check out my channel, subscribe!! http://example.com/watch?v=abc",
    "Love this song <3 so much",
    "I love this song, best video ever",
    "Please subscribe to my channel and like my videos",
    "Ça   va\tsuper bien, l'été est là",
    "a b c",
    "Hello from Azerbaijan İ",
]
OTHER = [
    "subscribe subscribe subscribe to my channel",
    "",
    "x",
    "   ",
    "Bonjour, ma commande ML-47002 est en retard",
    "LOVE this SONG!!!",
]


def test_features_equal_scikit_learns_on_unseen_texts():
    vocabulary, union = fit_vocabulary(TRAIN)
    expected = union.transform(OTHER + TRAIN).toarray()
    found = vocabulary.transform_dense(OTHER + TRAIN)
    assert found.shape == expected.shape
    assert np.allclose(found, expected, atol=1e-12)
    coef = np.random.default_rng(0).normal(size=vocabulary.n_features)
    assert np.allclose(vocabulary.dot(OTHER + TRAIN, coef), expected @ coef, atol=1e-9)


def test_character_grams_stay_inside_padded_words():
    assert char_grams("Ab  c") == [" a", "ab", "b ", " ab", "ab ", " ab ", " c", "c ", " c "]
