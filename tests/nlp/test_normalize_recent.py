"""The pipeline's stages read the same texts: a text's normalisation is kept for the next one, and
the one kept is the one computed again."""

from __future__ import annotations

from palabre.nlp import normalize as module
from palabre.nlp.normalize import RECENT_MAX_CHARS, normalize


def test_a_text_read_again_gets_the_normalisation_kept_which_is_the_one_computed_again():
    text = "Esp\u00e8ce de c0nnaaard, vous \u00eates des v o l e u r s (n\u00b0 4702)"
    first = normalize(text)
    assert normalize(text) is first
    assert module._normalize(text) == first


def test_a_long_text_is_normalised_each_time_and_not_kept():
    text = "tr\u00e8s " * (RECENT_MAX_CHARS // 5 + 1)
    assert len(text) > RECENT_MAX_CHARS
    assert normalize(text) is not normalize(text)
    assert normalize(text) == module._normalize(text)


def test_what_is_not_a_plain_string_is_normalised_as_before():
    assert normalize(b"caf\xc3\xa9").text == "cafe"
    assert normalize(None).text == ""
