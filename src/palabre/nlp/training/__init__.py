"""Reproducible training of the moderation and sentiment models.

``train(datasets_dir, out_dir)`` reads the shared data sets (train splits to fit, dev
splits to choose the regularisation and calibrate, test splits and eval-only sets to
report), writes ``weights.npz``, ``config.json`` and ``metrics.json`` into ``out_dir`` and
returns the metrics. Only sets whose licence allows training (README ``use: train``) are
fitted; eval-only sets are scored, never learned from.

Modules: ``data`` (sets and labels), ``spam`` (the spam heads' experts, routers and
calibration), ``fit`` (every head and the artifacts), ``report`` (metrics), ``card`` (the model card).
"""

from palabre.nlp.training.data import CORRECTION_WEIGHT, EVAL_SETS, TRAIN_SETS
from palabre.nlp.training.fit import train

__all__ = ["train", "TRAIN_SETS", "EVAL_SETS", "CORRECTION_WEIGHT"]
