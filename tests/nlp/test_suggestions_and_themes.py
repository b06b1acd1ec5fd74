"""Suggestions found in French and English, backed by "+1", grouped by theme."""

from __future__ import annotations

import pytest

from palabre.nlp.suggestions import is_support, suggestion_cue
from palabre.nlp.themes import group_by_theme


@pytest.mark.parametrize(
    "text",
    [
        "Ce serait bien d'avoir l'Oslo en velours",
        "Vous devriez livrer en Belgique",
        "Pourquoi ne pas proposer des housses de rechange ?",
        "Il faudrait un service de montage",
        "J'ai une idée : un Oslo convertible",
        "It would be great to have spare covers",
        "You should ship to Canada",
    ],
)
def test_suggestions_are_found(text):
    assert suggestion_cue(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ma commande est en retard depuis 3 semaines",
        "Où est mon colis ?",
        "Bravo pour le SAV, très réactif",
        "Le canapé est arrivé abîmé",
        "Where is my order?",
    ],
)
def test_questions_complaints_and_praise_are_not_suggestions(text):
    assert suggestion_cue(text) is None


@pytest.mark.parametrize(("text", "backs"), [("+1", True), ("Moi aussi !", True), ("👍", True), ("Same here", True),
    ("Je ne suis pas d'accord", False), ("Moi aussi j'attends ma commande depuis trois semaines, c'est inadmissible", False)])  # fmt: skip
def test_support_is_a_short_reply_that_backs(text, backs):
    assert is_support(text) is backs


def test_paraphrases_share_a_theme_and_other_themes_stay_apart():
    texts = [
        "Ce serait bien d'avoir l'Oslo en velours",
        "Un Oslo en velours côtelé svp !",
        "Vous devriez livrer en Belgique",
        "Pourquoi ne pas livrer la Belgique et la Suisse ?",
        "Faites un Oslo en velours vert",
        "Il faudrait des housses de rechange pour le canapé",
    ]
    themes = group_by_theme(texts)
    groups = sorted(sorted(theme.members) for theme in themes)
    assert groups == [[0, 1, 4], [2, 3], [5]]
    assert themes[0].members and len(themes[0].members) == 3  # the largest first
    assert themes[0].central in themes[0].members


def test_no_text_and_one_text():
    assert group_by_theme([]) == []
    assert [t.members for t in group_by_theme(["Ce serait top"])] == [(0,)]
