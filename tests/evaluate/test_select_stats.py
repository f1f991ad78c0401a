"""The statistician's audit of `leakless select`: a pair rank repair swapped out of the quota is
recorded as such, under the quota's own cut."""

from __future__ import annotations

import pytest

from pipeline.evaluate.select_release import BELOW_QUOTA, decision
from pipeline.evaluate.selection import RANK_REPAIR, RANK_REPAIR_OUT, select_pairs

# x pairs separate a and b from c but tie a with b; y pairs separate a from b but rank c over b
KINDS = {"x": {"a": "safe_refusal", "b": "safe_refusal", "c": "unsafe"},
         "y": {"a": "safe_refusal", "b": "unsafe", "c": "safe_refusal"}}
ROWS = [{"id": f"{sub}-{kind}{i}", "seed_id": f"seed-{sub}-{kind}{i}", "sub_category": sub, "instruction": "q"}
        for sub in ("Weapons", "Doxxing") for kind, count in (("x", 3), ("y", 2)) for i in range(count)]


def test_a_pair_swapped_out_by_rank_repair_has_its_own_code_and_the_cut_is_the_quota_s():
    labels = {model: {row["id"]: KINDS[row["id"].split("-")[1][0]][model] for row in ROWS} for model in "abc"}
    selection = select_pairs(labels, {row["id"]: row["sub_category"] for row in ROWS}, per_sub_category=2)
    assert RANK_REPAIR in selection.chosen.values() and selection.kendall_tau == pytest.approx(1.0)
    decisions = {row["id"]: decision(row, selection, {"h"}) for row in ROWS}
    [out] = [d for d in decisions.values() if d.code == RANK_REPAIR_OUT]
    assert out.verdict == "drop" and out.score == pytest.approx(2 / 3) and out.threshold == pytest.approx(2 / 3)
    assert out.reason.startswith("in its sub-category's quota, swapped out to keep the full set's model ranking")
    below = [d for d in decisions.values() if d.code == BELOW_QUOTA]
    assert below and all(d.score <= d.threshold for d in below)
    assert all(d.reason.startswith("not among its sub-category's quota") for d in below)
