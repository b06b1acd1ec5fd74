"""The featurizer keeps the character n-gram columns of the words it has seen: the columns of a text
are those of its n-grams computed again, word by word, in the same order."""

from __future__ import annotations

import re
import zlib
from array import array

from palabre.nlp.classifiers import load_models


def _computed_again(text: str, lo: int, hi: int) -> list[str]:
    chars: list[str] = []
    for word in text.split():
        padded = f" {word} "
        for n in range(lo, min(hi, len(padded)) + 1):
            chars += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return chars


def test_a_texts_character_ngrams_are_those_computed_again_word_by_word():
    featurizer = load_models().featurizer
    lo, hi = featurizer.config.char_ngrams
    long_word = "a" + "b" * 30  # over 20 characters: computed each time, not kept
    texts = [
        "bonjour ma commande n est pas arrivee",
        "ma commande encore ma commande",  # words seen before, within the text and the previous one
        f"x {long_word} x",
        f"{long_word}",
        "",
    ]
    mask = (1 << featurizer.config.char_bits) - 1
    for text in texts:
        words = featurizer._word_grams(text)
        chars = [gram for word in text.split() for gram in featurizer._word_chars(word)]
        assert chars == _computed_again(text, lo, hi)
        tokens = re.findall(r"\w+", text)
        assert words == tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
        columns = array("q")
        assert featurizer._char_columns(text, columns) == len(chars)
        assert list(columns) == [zlib.crc32(gram.encode()) & mask for gram in chars]
    assert long_word not in featurizer._chars_of
    assert "commande" in featurizer._chars_of
