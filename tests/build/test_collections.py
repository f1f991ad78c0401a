"""A build holds CPython's collector back, and gives it back as it was."""

from __future__ import annotations

import gc

from pipeline.build import fewer_collections


def test_collections_are_held_back_during_a_build_and_restored_after():
    before = gc.get_threshold()
    alive = [object() for _ in range(10)]  # noqa: F841  (something to freeze)
    with fewer_collections():
        assert gc.get_threshold() == (50_000, *before[1:])
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
