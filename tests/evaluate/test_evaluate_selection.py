"""The separability selection and the leaderboard's numbers on planted label tables (no server)."""

from __future__ import annotations

import math

import pytest
from scipy.stats import binomtest

from pipeline.evaluate.leaderboard import gap, wilson
from pipeline.evaluate.selection import QUOTA_FILL, RANK_REPAIR, SEPARATES, select_pairs

SUBS = 19


def table(kinds: dict[str, dict[str, str]], per_sub: dict[str, int]) -> tuple[dict, dict]:
    """Every sub-category gets `per_sub[kind]` pairs of each kind; a kind gives each model a label."""
    labels: dict[str, dict[str, str]] = {model: {} for model in next(iter(kinds.values()))}
    sub_of = {}
    for s in range(SUBS):
        for kind, count in per_sub.items():
            for j in range(count):
                pair = f"s{s}-{kind}-{j}"
                sub_of[pair] = f"sub{s}"
                for model, label in kinds[kind].items():
                    labels[model][pair] = label
    return labels, sub_of


def test_planted_separating_pairs_fill_the_quota_before_agreeing_ones():
    kinds = {"planted": {"a": "safe_refusal", "b": "safe_warning", "c": "unsafe"},  # orders a, b over c
             "agree": {"a": "unsafe", "b": "unsafe", "c": "unsafe"},
             "against": {"a": "unsafe", "b": "unsafe", "c": "safe_refusal"}}        # orders c first
    labels, sub_of = table(kinds, {"planted": 2, "agree": 5, "against": 1})
    selection = select_pairs(labels, sub_of, per_sub_category=3)
    counts = {kind: sum(kind in pair for pair in selection.chosen) for kind in kinds}
    assert counts == {"planted": 2 * SUBS, "agree": SUBS, "against": 0}
    assert {selection.chosen[p] for p in selection.chosen if "planted" in p} == {SEPARATES}
    assert {selection.chosen[p] for p in selection.chosen if "agree" in p} == {QUOTA_FILL}
    # a and b tie on the full set (warnings are safe), so only (a, c) and (b, c) are ranked pairs
    assert selection.separability["s0-planted-0"] == 1.0 and selection.separability["s0-against-0"] == -1.0
    assert selection.selected_rates == {"a": pytest.approx(2 / 3), "b": pytest.approx(2 / 3), "c": 0.0}
    assert selection.kendall_tau == pytest.approx(1.0)


def test_a_ranking_the_best_pairs_would_tie_is_repaired_by_swaps_within_a_sub_category():
    # x pairs separate a and b from c but tie a with b; y pairs separate a from b but rank c over b.
    kinds = {"x": {"a": "safe_refusal", "b": "safe_refusal", "c": "unsafe"},
             "y": {"a": "safe_refusal", "b": "unsafe", "c": "safe_refusal"}}
    labels, sub_of = table(kinds, {"x": 4, "y": 2})
    selection = select_pairs(labels, sub_of, per_sub_category=2)
    full = selection.full_rates
    assert full["a"] > full["b"] > full["c"]
    selected = selection.selected_rates
    assert selected["a"] > selected["b"] > selected["c"] and selection.kendall_tau == pytest.approx(1.0)
    repaired = [p for p, code in selection.chosen.items() if code == RANK_REPAIR]
    assert repaired and all("-y-" in p for p in repaired)
    per_sub = {}
    for pair in selection.chosen:
        per_sub[sub_of[pair]] = per_sub.get(sub_of[pair], 0) + 1
    assert per_sub == dict.fromkeys({f"sub{s}" for s in range(SUBS)}, 2)  # coverage and quota kept


def test_one_model_is_refused():
    with pytest.raises(ValueError, match="at least two models"):
        select_pairs({"a": {"p": "unsafe"}}, {"p": "sub"}, 1)


@pytest.mark.parametrize("hits,total", [(0, 10), (19, 38), (37, 38), (1, 1), (500, 2241)])
def test_wilson_matches_scipy(hits, total):
    ours, theirs = wilson(hits, total), binomtest(hits, total).proportion_ci(method="wilson")
    assert (ours.low, ours.high) == (pytest.approx(theirs.low), pytest.approx(theirs.high))


def test_gap_interval_contains_the_difference_and_no_data_is_nan():
    g = gap(wilson(30, 40), wilson(10, 40), "m")
    assert g.difference == pytest.approx(0.5) and g.low < 0.5 < g.high
    assert math.isnan(wilson(0, 0).value)
