"""An identity attack is said of people for what they are: where a text names no group, its
identity-attack score alone holds it only from UNNAMED_GROUP_IDENTITY_HOLD (issue 13: the demo's
"Mon coin lecture près de la fenêtre !" was held at 0.54)."""

from __future__ import annotations

import pytest

from palabre.moderation.engine import HOLD, PUBLISH, ModerationContext, moderate_many
from palabre.moderation.engine.context import UNNAMED_GROUP_IDENTITY_HOLD
from palabre.moderation.engine.decide import _NOTHING_TO_READ, _decide
from palabre.nlp.classifiers import Assessment
from palabre.nlp.lexicon import Span
from palabre.nlp.normalize import normalize

# Held as identity attacks before the change (0.51 to 0.55).
ORDINARY = [
    "Mon coin lecture près de la fenêtre ! Il ne lui manque qu'un bon fauteuil, et je crois que le "
    "Ravello vient de trouver sa place 😊",
    "Vous pourriez faire un article sur l'éclairage d'un bureau ? Je télétravaille dans une chambre avec "
    "une seule petite fenêtre, à 16h en hiver c'est la grotte.",
    "un des fruits de la néantisation télévisuelle moderne .",
]

HATE_NAMING_A_GROUP = [
    "Les juifs contrôlent tout, il faudrait tous les virer.",
    "Les immigrés sont des parasites, dehors.",
]


def test_ordinary_messages_that_name_no_group_are_published():
    decisions = moderate_many(ORDINARY, [ModerationContext()] * len(ORDINARY))
    assert [d.action for d in decisions] == [PUBLISH] * len(ORDINARY)


def test_hate_that_names_a_group_is_still_held():
    decisions = moderate_many(HATE_NAMING_A_GROUP, [ModerationContext()] * len(HATE_NAMING_A_GROUP))
    assert all(d.action != PUBLISH for d in decisions)


def _decision(score: float, spans: list[Span]):
    text = "les gens de ce quartier"
    scores = {
        "spam": 0.0,
        "toxicity": 0.2,
        "insult": 0.1,
        "identity_attack": score,
        "threat": 0.0,
        "sexual": 0.0,
    }
    return _decide(
        text, Assessment(scores, spans, normalize(text)), _NOTHING_TO_READ, ModerationContext(), "test"
    )


@pytest.mark.parametrize("category", ["target", "slur", "dehumanizing"])
def test_the_score_alone_holds_from_the_usual_threshold_where_a_group_is_named(category):
    named = [Span(4, 8, category, "gens", "fr")]
    assert _decision(0.55, named).action == HOLD
    assert _decision(0.55, []).action == PUBLISH


def test_the_score_alone_holds_where_no_group_is_named_only_from_its_own_bar():
    assert _decision(UNNAMED_GROUP_IDENTITY_HOLD - 0.01, []).action == PUBLISH
    held = _decision(UNNAMED_GROUP_IDENTITY_HOLD, [])
    assert held.action == HOLD
    assert [reason.code for reason in held.reasons] == ["score_identity_attack"]


@pytest.mark.parametrize(
    "text",
    [
        # Held before session 22 (identity attack 0.86 and 0.73): the identity head had kept
        # weights on the French words of a few hateful tweets.
        "je le pensais mais bon",
        "Bon, je pensais que c'était mieux.",
        "Ah bon ? Je pensais que vous livriez le dimanche.",
        "Moi je dis que c'est pas mal mais bon, c'est cher.",
    ],
)
def test_ordinary_french_words_are_no_identity_attack(text):
    decision = moderate_many([text], [ModerationContext()])[0]
    assert decision.action == PUBLISH
    assert decision.scores["identity_attack"] < 0.5, decision.scores
