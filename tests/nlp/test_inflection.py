"""Word forms a moderation word rule catches: plurals and simple inflections, French and English."""

from __future__ import annotations

import pytest

from palabre.nlp.inflection import word_forms


@pytest.mark.parametrize(
    ("written", "caught"),
    [
        ("escroc", {"escroc", "escrocs"}),
        ("escrocs", {"escroc", "escrocs"}),
        ("arnaque", {"arnaque", "arnaques"}),
        ("voleur", {"voleur", "voleuse", "voleurs", "voleuses"}),
        ("voleuse", {"voleur", "voleuse", "voleurs", "voleuses"}),
        ("menteur", {"menteuse", "menteurs"}),
        ("connard", {"connarde", "connards"}),
        ("cheval", {"chevaux"}),
        ("Idiot", {"idiote", "idiots", "idiotes"}),
        ("scammer", {"scammers"}),
        ("thief", {"thieves"}),
        ("bully", {"bullies"}),
    ],
)
def test_a_word_catches_its_forms(written, caught):
    assert caught <= word_forms(written)


def test_short_words_take_plurals_only_and_invariables_stay():
    assert word_forms("con") == {"con", "cons"}
    assert "pai" not in word_forms("prix") and "prix" in word_forms("prix")
    assert word_forms("ab") == {"ab"}
