"""What `palabre serve` and `palabre worker` do before their first request or task."""

from __future__ import annotations

import gc

from palabre.operations.serving import YOUNG_GENERATION_THRESHOLD, load_for_good


def test_what_is_loaded_is_frozen_and_the_youngest_generation_collected_less_often():
    before = gc.get_threshold()
    try:
        load_for_good()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *before[1:])
        assert before[0] < YOUNG_GENERATION_THRESHOLD
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
