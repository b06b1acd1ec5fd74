"""Prometheus metrics: requests, tasks, moderation decisions, the task queue and channels' health.

Every Palabre process of a machine (web processes, `palabre worker`s, the scheduler) writes its
counters and histograms in one folder (prometheus-client's multiprocess mode,
`PALABRE_METRICS_DIR`); `/metrics`, answered by any web process, adds them up. The task queue's
depth and the channels' health are read from the database when `/metrics` is asked, so any
process, on any machine, gives the same figures. docs/operations.md lists every metric.
"""

from __future__ import annotations

import os
from pathlib import Path

from palabre import config


def metrics_dir() -> Path:
    configured = config.METRICS_DIR.raw().strip()
    path = Path(configured).expanduser() if configured else config.data_dir() / "metrics"
    path.mkdir(parents=True, exist_ok=True)
    return path


# prometheus-client chooses between one process's memory and the shared folder when it is first
# imported: the folder must be known before (this package is imported by the settings' apps).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir())
