"""What a text is known to be from where it was posted (classifiers.KINDS): a video's comment is
scored without the SMS spam expert, which the text-only router may otherwise mix in."""

from __future__ import annotations

import numpy as np
import pytest

from palabre.nlp.classifiers import (
    COMMENT_ROUTE_MIN,
    COMMENT_UNSURE,
    VIDEO_COMMENT,
    _sigmoid,
    load_models,
    mix_spam,
)

# Written for these tests (no data set text): a spam comment the SMS expert pulls down.
RAP = "If you like rap, check my stuff"


def _columns(models, text: str) -> dict[str, float]:
    X, _ = models.featurizer.transform([text])
    P = _sigmoid(models._platt[:, 0] * (X.dot(models._W) + models._b) + models._platt[:, 1])
    return {name: float(P[0, models.heads.index(name)]) for name in models.heads}


def test_a_video_comment_is_mixed_without_the_sms_expert():
    models = load_models()
    col = _columns(models, RAP)
    lo, hi = COMMENT_UNSURE
    consulted = lo < col["spam"] < hi and col["spam_comment_route"] >= COMMENT_ROUTE_MIN
    vocab = float(_sigmoid(models._comment.dot([RAP], models._comment_coef) + models._comment_b)[0])
    one = lambda v: np.array([v])  # noqa: E731
    comment = one((col["spam_comment"] + vocab) / 2 if consulted else 0.0)
    general, route = one(col["spam"]), one(col["spam_comment_route"] if consulted else 0.0)
    without_sms = float(mix_spam(general, route, comment, one(0.0), one(col["spam_sms"]))[0])
    assert col["spam_sms_route"] > 0.1 and col["spam_sms"] < 0.5
    unknown = models.score_many([RAP])[0]["spam"]
    known = models.score_many([RAP], kinds=[VIDEO_COMMENT])[0]["spam"]
    assert known == pytest.approx(without_sms, abs=1e-4)
    # The SMS expert (trained on text messages) held this comment under the reject threshold.
    assert unknown < 0.93 <= known
    assert models.score(RAP, kind=VIDEO_COMMENT)["spam"] == known


def test_the_kind_changes_only_the_spam_score_and_not_the_kept_reading():
    models = load_models()
    text = "Go to my profile for my new song, thanks!"
    first = models.score_many([text])[0]
    known = models.score_many([text, text], kinds=[VIDEO_COMMENT, None])
    assert known[1] == first  # the same text of unknown kind in the same batch
    assert {k: v for k, v in known[0].items() if k != "spam"} == {
        k: v for k, v in first.items() if k != "spam"
    }
    assert models.score_many([text])[0] == first  # the kept reading is the text alone's
    assessed = models.assess_many([text], ["en"], [VIDEO_COMMENT])[0]
    assert assessed.scores == known[0]


@pytest.mark.parametrize(
    "text",
    [
        "Votre livraison est en retard depuis 3 semaines, c'est inadmissible.",
        "Super vidéo, merci pour les explications sur le montage du canapé !",
        "Abonnez-vous à ma chaîne, je fais des vidéos de bricolage",
    ],
)
def test_french_comments_read_the_same_whatever_their_kind(text):
    models = load_models()
    unknown = models.score_many([text])[0]["spam"]
    known = models.score_many([text], kinds=[VIDEO_COMMENT])[0]["spam"]
    assert known == pytest.approx(unknown, abs=0.02)


def test_an_unknown_kind_or_a_missing_entry_is_refused():
    models = load_models()
    with pytest.raises(ValueError, match="sms"):
        models.score_many(["hello"], kinds=["sms"])
    with pytest.raises(ValueError, match="one entry per text"):
        models.score_many(["hello", "bye"], kinds=[VIDEO_COMMENT])
