"""The comment and SMS spam experts' logit offset, chosen on dev (training.spam._expert_shift)."""

from __future__ import annotations

import json

import numpy as np

from palabre.nlp.classifiers import MODELS_DIR, load_models


def _mean_f1(y):
    def mean_f1(p):
        pred = p >= 0.5
        tp = int((pred & (y == 1)).sum())
        return 2 * tp / (pred.sum() + y.sum())

    return mean_f1


def test_the_offset_lifts_experts_that_leave_spam_just_under_one_half():
    from palabre.nlp.training.spam import EXPERT_SHIFT_GRID, _expert_shift

    # Comment-like texts where the general head is unsure; the experts rank every spam above every
    # ham but put half the spam a little under 0.5, as balanced, uncalibrated experts do.
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    z = np.array([0.8, 0.6, -0.15, -0.1, -2.0, -2.5, -3.0, -1.5])
    general = np.full(len(y), 0.4)
    route = np.full(len(y), 0.9)
    shift, f1 = _expert_shift(_mean_f1(y), general, route, z, z, np.zeros(len(y)), z)
    assert shift == min(s for s in EXPERT_SHIFT_GRID if s > 0.15)
    assert f1 == 1.0
    # Experts already right at 0.5 keep no offset (the smallest wins a tie).
    z_right = np.where(y == 1, 1.0, -1.0)
    assert _expert_shift(_mean_f1(y), general, route, z_right, z_right, np.zeros(len(y)), z_right)[0] == 0.0


def test_the_shipped_experts_carry_the_dev_chosen_offset():
    config = json.loads((MODELS_DIR / "config.json").read_text(encoding="utf-8"))
    shift = config["regularisation"]["spam_experts"]["shift"]
    models = load_models()
    for head in ("spam_comment", "spam_sms"):
        a, c = models._platt[models.heads.index(head)]
        assert (a, c) == (1.0, shift)
    for head in ("spam_comment_route", "spam_sms_route"):
        assert tuple(models._platt[models.heads.index(head)]) == (1.0, 0.0)
