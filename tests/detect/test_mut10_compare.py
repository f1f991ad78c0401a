"""`eval-compare` (pipeline.detect.compare): which files it accepts, which rows it pairs, and what its
table says, pinned through `compare` and the command."""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.detect.compare import compare, input_warning
from tests.detect.test_compare_inputs import compared, scores


def test_a_file_recording_its_input_compared_with_one_that_does_not_is_compared_with_a_warning(tmp_path):
    """Either order: the newer file (with the sha256) may be the one before."""
    recorded = scores("eval", {"input": "eval.jsonl", "input_sha256": "a" * 64})
    unrecorded = scores("eval", {})
    for before, after, which in ((unrecorded, recorded, "before"), (recorded, unrecorded, "after")):
        assert compare(before, after, rounds=50)
        assert f"the {which} file does not record" in input_warning(before, after)
        result = compared(tmp_path, before, after)
        assert result.exit_code == 0 and "warning" in result.output, result.output


def test_a_row_either_run_left_out_is_left_out_of_both():
    before = scores("eval", {})
    held_out = before.score.copy()
    held_out[0] = np.nan  # the later run held this row out as a duplicate
    after = dataclasses.replace(before, score=held_out)
    [row] = compare(before, after, rounds=50)
    assert row.leaky + row.leakless == len(before.ids) - 1
    assert np.isfinite([row.before, row.after, row.difference, *row.interval]).all()


def test_each_pool_holds_its_own_sources_rows():
    """Two sources the detector was fitted on and two evaluation-only ones: each pool's counts are its
    own sources' rows, and the pools are named for what they hold."""
    from tests.detect.test_compare_footnote import scores as mixed

    sources = ["fit-a"] * 4 + ["fit-b"] * 4 + ["eval-a"] * 6 + ["eval-b"] * 6
    before = dataclasses.replace(mixed(sources, [0, 1] * 10),
                                 fitted_on=np.array([True] * 8 + [False] * 12))
    after = dataclasses.replace(before, score=before.score[::-1].copy())
    rows = {row.group: row.leaky + row.leakless for row in compare(before, after, rounds=50)}
    assert rows["public, fitted sources pooled"] == 8
    assert rows["public, evaluation-only pooled"] == 12


def test_other_ids_are_blamed_on_positional_names_only_when_every_renamed_row_has_one():
    from tests.detect.test_compare_footnote import scores as mixed
    import pytest

    rows = mixed(["mine"] * 4, [0, 1, 0, 1])
    older = dataclasses.replace(rows, ids=["r0", "3", "r2", "r3"])
    newer = dataclasses.replace(rows, ids=["r0", "line 3", "r2", "other"])  # one real rename as well
    with pytest.raises(ValueError) as refused:
        compare(older, newer)
    assert "without an id" not in str(refused.value)
