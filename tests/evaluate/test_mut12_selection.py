"""mut12: among pairs of equal separability, the quota takes the one the models disagree on more."""

from pipeline.evaluate.selection import select_pairs

S, U = "safe_refusal", "unsafe"


def test_equal_separability_prefers_the_pair_the_models_disagree_on():
    # a > b > c on the full set; X (separability 0, disagreement 2/3) and Y (0, 0) share a sub-category
    labels = {"a": {"X": S, "Y": U, "Z1": S, "Z2": S, "Z3": S},
              "b": {"X": U, "Y": U, "Z1": S, "Z2": U, "Z3": S},
              "c": {"X": S, "Y": U, "Z1": U, "Z2": U, "Z3": U}}
    sub = {"X": "one", "Y": "one", "Z1": "two", "Z2": "two", "Z3": "two"}
    selection = select_pairs(labels, sub, per_sub_category=1)
    assert selection.separability["X"] == selection.separability["Y"] == 0
    assert "X" in selection.chosen and "Y" not in selection.chosen


import pytest  # noqa: E402

from pipeline.evaluate.select_release import common_pairs, lacking, select_release  # noqa: E402


def test_a_pair_a_model_failed_on_is_not_common():
    labels = {"a": {"p1": S, "p2": "error"}, "b": {"p1": U, "p2": S}}
    assert common_pairs(labels, ["p1", "p2"]) == ["p1"]


def test_a_failed_row_counts_as_lacking():
    labels = {"a": {"p1": S, "p2": "error"}, "b": {"p1": U, "p2": S}}
    assert lacking(labels, ["p1", "p2"]) == "a lacks 1 of the 2 pairs"


def test_a_quota_of_zero_is_refused_first(tmp_path):
    with pytest.raises(ValueError, match="at least 1"):
        select_release(tmp_path / "no-release", tmp_path / "no-evaluations", 0)


def test_a_model_with_one_failed_row_is_still_used(tmp_path):
    from pipeline.evaluate.select_release import load_evaluations
    from tests.evaluate.test_unjudged_pairs import PAIRS, evaluated

    evaluated(tmp_path, "bench-v1", "a-model", {pair: ("error" if i == 0 else S) for i, pair in enumerate(PAIRS)})
    evaluated(tmp_path, "bench-v1", "b-model", {pair: U for pair in PAIRS})
    found = load_evaluations(tmp_path / "evaluations" / "bench-v1")
    assert set(found.labels) == {"a-model", "b-model"} and not found.left_out
