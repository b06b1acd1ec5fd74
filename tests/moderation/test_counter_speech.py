"""Counter-speech and negated hate in French, through the real engine and the shipped models
(issue 13): speech that names hate to answer it is published, hate said around such frames and
hate phrased as a denial of worth is held."""

from __future__ import annotations

import pytest

from palabre.moderation.engine import HOLD, PUBLISH, REJECT, ModerationContext, moderate_many

COUNTER_SPEECH = [
    "Les immigrés ne sont pas des voleurs",
    "Vous devez arrêter de dire que les musulmans sont des terroristes.",
    "Tu dois arrêter de traiter les homos de dégénérés.",
    "Vous ne pouvez pas sérieusement croire que les immigrés sont des parasites.",
    "Dire que les femmes sont des sous-hommes montre surtout votre ignorance.",
    "Traiter les réfugiés de vermine est une chose ignoble.",
    "Ça me fait mal de voir des gens dire que les juifs sont des rats.",
    "C'est désolant de lire encore des gens réclamer la mort des migrants.",
    "Ces gens continuent à dire que les handicapés sont des parasites, c'est lamentable.",
    "C'est vraiment pas acceptable de traiter les noirs de singes.",
    "Quand vous dites que les musulmans sont des envahisseurs, vous vous trompez.",
    "Il a été condamné pour avoir dit que les immigrés étaient des cafards.",
    "Votre mépris pour les femmes doit cesser immédiatement.",
    "Il n'y a aucune haine dans mon cœur envers les musulmans.",
    "Aucun réfugié ne mérite de mourir en mer.",
]

HATE = [
    "Les juifs contrôlent tout, il faudrait tous les virer.",
    "Les immigrés sont des parasites.",
    "Arrêtez de dire que je suis raciste, sales bougnoules",
    "Les femmes ne sont jamais aussi intelligentes que les hommes.",
    "Les vies des migrants n'ont aucune importance.",
    "Il n'existe pas de musulmans honnêtes.",
    "Je n'ai aucune compassion pour les réfugiés.",
    "Les homos ne seront jamais des gens normaux.",
    "Les immigrés ne sont pas des voleurs mais des parasites",
    "Les immigrés ne sont pas des voleurs, connard",
    "Arrête d'insulter les gens sale connard",
]


def _decide(texts):
    return moderate_many(texts, [ModerationContext(lang="fr") for _ in texts])


@pytest.mark.parametrize("text", COUNTER_SPEECH)
def test_counter_speech_and_negated_hate_are_published(text):
    (decision,) = _decide([text])
    assert decision.action == PUBLISH, decision.as_dict()


@pytest.mark.parametrize("text", HATE)
def test_hate_is_held(text):
    (decision,) = _decide([text])
    assert decision.action in {HOLD, REJECT}, decision.as_dict()
