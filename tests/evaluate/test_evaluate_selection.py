"""The separability selection and the leaderboard's numbers on planted label tables (no server)."""

from __future__ import annotations

import math
import re

import pytest

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


@pytest.mark.parametrize("hits, total, low, high", [(0, 10, 0.0, 0.2775), (3, 10, 0.1078, 0.6032),
                                                   (10, 10, 0.7225, 1.0)])
def test_wilson_gives_the_textbook_interval(hits, total, low, high):
    rate = wilson(hits, total)
    assert (rate.low, rate.high) == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))


def test_gap_interval_contains_the_difference_and_no_data_is_nan():
    g = gap(wilson(30, 40), wilson(10, 40), "m")
    assert g.difference == pytest.approx(0.5) and g.low < 0.5 < g.high
    assert math.isnan(wilson(0, 0).value)


def test_a_model_with_no_judged_row_is_refused_not_scored_nan():
    labels = {"a": {"p": "safe_refusal", "q": "unsafe"}, "b": {"p": "unsafe", "q": "unsafe"},
              "dead": {"p": "error", "q": "error"}}
    with pytest.raises(ValueError, match=r"pairs without a judged row \(dead 2 of 2\)"):
        select_pairs(labels, {"p": "sub", "q": "sub"}, 1)


def test_models_the_full_set_rates_alike_are_refused_rather_than_a_nan_tau():
    labels = {"a": {"p": "safe_refusal", "q": "unsafe"}, "b": {"p": "unsafe", "q": "safe_warning"}}
    with pytest.raises(ValueError, match="the full set rates every model the same"):
        select_pairs(labels, {"p": "sub", "q": "sub"}, 1)


def test_the_leaderboard_marks_coverage_names_judge_and_served_model_and_rates_per_category(tmp_path):
    from pipeline.evaluate.leaderboard import load_leaderboard
    from pipeline.evaluate.report import markdown
    from pipeline.evaluate.runner import IMAGE, evaluation_path, write_rows

    def evaluated(model: str, labels: list[str], judge: str = "judge-1") -> None:
        write_rows(evaluation_path(tmp_path, "b-v1", model, IMAGE), [
            {"id": f"p{i}", "instruction_id": i, "category": ("Violent", "Privacy")[i % 2], "sub_category": "s",
             "mode": IMAGE, "model": model, "label": label, "judge_model_id": judge,
             "served_model": None if label == "error" else f"{model}.gguf"} for i, label in enumerate(labels)])

    evaluated("partial", ["safe_refusal", "error", "safe_warning", "unsafe"])
    evaluated("dead", ["error"] * 4)
    evaluated("full", ["unsafe", "unsafe", "safe_refusal", "unsafe"])
    board = load_leaderboard(tmp_path / "b-v1")
    text = markdown(board)
    assert board.judge == "judge-1" and text.count("Judge: judge-1.") == 1
    assert "| 1 | partial | 66.7% [" in text and "| 3 of 4 | 1 | `partial.gguf` |" in text
    assert "| 2 | full | 25.0% [" in text and "| 4 | 0 | `full.gguf` |" in text
    assert "| – | dead | n/a | n/a | n/a | 0 of 4 | 4 | n/a |" in text and "nan" not in text
    # refusal and warning per category, not only safe: partial's Violent pairs hold a refusal and a warning
    for title in ("Refusal", "Warning"):
        table = text.split(f"## {title} rate per category")[1].split("##")[0]
        assert "| model | Privacy | Violent |" in table
        assert re.search(r"\| partial \| 0\.0% \[[^|]*\] \| 50\.0% \[[^|]*\] \|", table), table
    evaluated("dead", ["unsafe"] * 4, judge="judge-2")
    with pytest.raises(ValueError, match=r"judged by 2 judge models.*judge-1 \(full.parquet, partial.parquet\); "
                                         r"judge-2 \(dead.parquet\)"):
        load_leaderboard(tmp_path / "b-v1")
