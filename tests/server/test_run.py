"""Serving-process set-up (server/run.py): the collector is settled once the app started."""

from __future__ import annotations

import gc

from aigw.server.run import GC_YOUNG_THRESHOLD, settle_gc


def test_settle_gc_freezes_start_up_objects_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    made_at_start_up = [{"model": i} for i in range(1000)]  # container objects, tracked
    try:
        settle_gc()
        assert gc.get_freeze_count() >= len(made_at_start_up)
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
