"""How the comment and SMS spam experts are mixed into the general spam head (classifiers.mix_spam)."""

from __future__ import annotations

import numpy as np
import pytest

from palabre.nlp.classifiers import COMMENT_LAST_RATIO, COMMENT_UNSURE, _sigmoid, load_models, mix_spam


def test_the_surer_comment_router_gives_the_comment_expert_the_last_word():
    general = np.array([0.3, 0.3, 0.3, 0.3])
    comment = np.array([0.9, 0.9, 0.9, 0.9])
    sms = np.array([0.05, 0.05, 0.05, 0.05])
    r_comment = np.array([0.65, 0.65, 0.0, 0.2])
    r_sms = np.array([0.2, 0.7, 0.7, 0.0])
    p = mix_spam(general, r_comment, comment, r_sms, sms)
    # A comment read much more surely as a comment than as a text message: comment expert last.
    assert r_comment[0] > COMMENT_LAST_RATIO * r_sms[0]
    assert p[0] == pytest.approx(0.65 * 0.9 + 0.35 * (0.2 * 0.05 + 0.8 * 0.3))
    assert p[0] > 0.5
    # Both routers unsure which it is: the SMS expert keeps the last word, as before.
    assert p[1] == pytest.approx(0.7 * 0.05 + 0.3 * (0.65 * 0.9 + 0.35 * 0.3))
    assert p[1] < 0.5
    # Comment expert not consulted: the SMS expert over the general head.
    assert p[2] == pytest.approx(0.7 * 0.05 + 0.3 * 0.3)
    # No SMS route: the comment mixture alone, whichever order.
    assert p[3] == pytest.approx(0.2 * 0.9 + 0.8 * 0.3)


def test_the_shipped_models_mix_a_spam_comment_with_the_comment_expert_last():
    models = load_models()
    text = "hey guys if you wouldnt mind checking out my rap give it a like and ill give 3 of you a shoutout"
    X, _ = models.featurizer.transform([text])
    P = _sigmoid(models._platt[:, 0] * (X.dot(models._W) + models._b) + models._platt[:, 1])
    col = {name: float(P[0, models.heads.index(name)]) for name in models.heads}
    lo, hi = COMMENT_UNSURE
    assert lo < col["spam"] < hi and col["spam_comment_route"] > COMMENT_LAST_RATIO * col["spam_sms_route"]
    vocab = float(_sigmoid(models._comment.dot([text], models._comment_coef) + models._comment_b)[0])
    comment = (col["spam_comment"] + vocab) / 2
    r, rs = col["spam_comment_route"], col["spam_sms_route"]
    comment_last = r * comment + (1 - r) * (rs * col["spam_sms"] + (1 - rs) * col["spam"])
    sms_last = rs * col["spam_sms"] + (1 - rs) * (r * comment + (1 - r) * col["spam"])
    spam = models.score_many([text])[0]["spam"]
    assert spam == pytest.approx(comment_last, abs=1e-4)
    assert spam > sms_last + 0.01
