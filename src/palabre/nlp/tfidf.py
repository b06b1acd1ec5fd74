"""Word 1-2-gram and character 2-5-gram (within words) TF-IDF over a fixed vocabulary, computed as
scikit-learn's ``TfidfVectorizer`` computes it (lower-cased raw text, tokens of two word characters
or more, sublinear counts, smoothed idf, each block L2-normalised), with numpy only.

The comment spam expert reads these features: on YouTube comments the exact vocabulary of the raw
text carries what the hashed features of the normalised text lose (see the model card). Fitting
uses scikit-learn itself (:func:`fit_vocabulary`); inference uses this code, and a test holds the
two equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["VocabularyTfidf", "fit_vocabulary"]

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_WHITE_SPACES = re.compile(r"\s\s+")
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
CHAR_MIN_DF = 2


def word_grams(text: str) -> list[str]:
    tokens = _TOKEN.findall(text.lower())
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def char_grams(text: str) -> list[str]:
    """scikit-learn's ``char_wb`` analyser: n-grams inside space-padded words; a word shorter
    than n gives itself once."""
    lo, hi = CHAR_NGRAMS
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        size = len(padded)
        for n in range(lo, hi + 1):
            if size <= n:
                grams.append(padded)
                break
            grams += [padded[i : i + n] for i in range(size - n + 1)]
    return grams


@dataclass(slots=True)
class _Block:
    index: dict[str, int]
    idf: np.ndarray
    offset: int

    def rows(self, grams_per_text: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows: list[int] = []
        cols: list[int] = []
        get = self.index.get
        for r, grams in enumerate(grams_per_text):
            found = [c for c in map(get, grams) if c is not None]
            rows += [r] * len(found)
            cols += found
        if not cols:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
        n = len(self.idf)
        keys, counts = np.unique(
            np.asarray(rows, np.int64) * n + np.asarray(cols, np.int64), return_counts=True
        )
        r_, c_ = keys // n, keys % n
        values = (1.0 + np.log(counts)) * self.idf[c_]
        norms = np.sqrt(np.bincount(r_, weights=values * values, minlength=len(grams_per_text)))
        return r_, c_ + self.offset, values / norms[r_]


class VocabularyTfidf:
    """The features of a fitted vocabulary: ``words`` and ``chars`` in column order, their idf."""

    def __init__(self, words: list[str], word_idf: np.ndarray, chars: list[str], char_idf: np.ndarray):
        self.words, self.chars = words, chars
        self._word = _Block({t: i for i, t in enumerate(words)}, np.asarray(word_idf, np.float64), 0)
        self._char = _Block({t: i for i, t in enumerate(chars)}, np.asarray(char_idf, np.float64), len(words))
        self.n_features = len(words) + len(chars)

    def dot(self, texts: list[str], coef: np.ndarray) -> np.ndarray:
        """The features of each text times ``coef`` (one weight per column)."""
        out = np.zeros(len(texts))
        for block, grams in ((self._word, map(word_grams, texts)), (self._char, map(char_grams, texts))):
            r, c, v = block.rows(list(grams))
            np.add.at(out, r, v * coef[c])
        return out

    def transform_dense(self, texts: list[str]) -> np.ndarray:
        """The feature matrix, dense (for tests and small batches)."""
        out = np.zeros((len(texts), self.n_features))
        for block, grams in ((self._word, map(word_grams, texts)), (self._char, map(char_grams, texts))):
            r, c, v = block.rows(list(grams))
            out[r, c] = v
        return out


def fit_vocabulary(texts: list[str]):
    """The vocabulary of ``texts`` (every word 1-2-gram; character n-grams seen in two texts or
    more) as scikit-learn fits it, and the fitted scikit-learn vectoriser (for training)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    union = make_union(
        TfidfVectorizer(ngram_range=WORD_NGRAMS, sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, min_df=CHAR_MIN_DF, sublinear_tf=True),
    )
    union.fit(texts)
    (_, word), (_, char) = union.transformer_list
    words = list(word.get_feature_names_out())
    chars = list(char.get_feature_names_out())
    return VocabularyTfidf(words, word.idf_, chars, char.idf_), union
