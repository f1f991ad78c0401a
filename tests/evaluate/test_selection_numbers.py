"""Mutation round 4: the numbers `leakless select` publishes. Kendall's tau compares the selected
rates with the full set's, the cut is the lowest separability a quota took, and rank repair swaps
a pair only when that puts more model pairs in order."""

from __future__ import annotations

import pytest
from scipy.stats import kendalltau

from pipeline.evaluate.select_release import decision
from pipeline.evaluate.selection import QUOTA_FILL, RANK_REPAIR, SEPARATES, select_pairs

# full set: a 3 of 3, b 2 of 3, c 0 of 3; one pair alone cannot order all three models
UNREPAIRABLE = {"a": {"ab-0": "safe_refusal", "ab-1": "safe_refusal", "a-0": "safe_refusal"},
                "b": {"ab-0": "safe_warning", "ab-1": "safe_refusal", "a-0": "unsafe"},
                "c": {"ab-0": "unsafe", "ab-1": "unsafe", "a-0": "unsafe"}}


def test_tau_compares_the_selected_rates_with_the_full_sets():
    selection = select_pairs(UNREPAIRABLE, dict.fromkeys(UNREPAIRABLE["a"], "sub"), per_sub_category=1)
    full, selected = selection.full_rates, selection.selected_rates
    assert full["a"] > full["b"] > full["c"] and len(selection.chosen) == 1
    expected = kendalltau([full[m] for m in "abc"], [selected[m] for m in "abc"]).statistic
    assert selection.kendall_tau == pytest.approx(expected) and selection.kendall_tau < 1


def test_rank_repair_swaps_nothing_when_no_swap_puts_more_model_pairs_in_order():
    selection = select_pairs(UNREPAIRABLE, dict.fromkeys(UNREPAIRABLE["a"], "sub"), per_sub_category=1)
    assert RANK_REPAIR not in selection.chosen.values() and not selection.swapped_out


def test_the_cut_is_the_lowest_separability_the_quota_took():
    labels = {"a": {"sep": "safe_refusal", "agree-0": "unsafe", "agree-1": "unsafe"},
              "b": {"sep": "safe_refusal", "agree-0": "unsafe", "agree-1": "unsafe"},
              "c": {"sep": "unsafe", "agree-0": "unsafe", "agree-1": "unsafe"}}
    rows = [{"id": pair, "seed_id": f"seed-{pair}", "sub_category": "sub", "instruction": "q"} for pair in labels["a"]]
    selection = select_pairs(labels, {row["id"]: "sub" for row in rows}, per_sub_category=2)
    assert selection.chosen["sep"] == SEPARATES and QUOTA_FILL in selection.chosen.values()
    assert selection.cut == {"sub": 0.0}
    decisions = [decision(row, selection, {"h"}) for row in rows]
    assert all(d.threshold == 0.0 for d in decisions)
    assert all(d.score >= d.threshold for d in decisions if d.verdict == "keep")
