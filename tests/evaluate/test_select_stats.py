"""The statistician's audit of `leakless select`: a pair rank repair swapped out of the quota is
recorded as such, under the quota's own cut; the summary line says what was kept; tau is exact."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from tests.support.evaluate_release import build_release
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.evaluate.runner import IMAGE, evaluation_path, write_rows
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


def test_tau_of_a_ranking_kept_exactly_is_1_not_float_noise():
    # two models tied and a third below, on the full and the selected set: scipy's tau-b is 0.9999999999999999
    labels = {model: {row["id"]: KINDS["x"][model] for row in ROWS} for model in "abc"}
    labels["b"] = labels["a"]
    selection = select_pairs(labels, {row["id"]: row["sub_category"] for row in ROWS}, per_sub_category=1)
    assert selection.kendall_tau == 1.0


@pytest.mark.slow  # a release built with the MiniLM embedder (~10 s)
def test_select_says_how_many_it_kept_of_the_pairs_every_model_judged_and_the_manifest_tau_is_exact(tmp_path):
    release = build_release(tmp_path, per_sub_category=2, planted=1)
    rows = pq.read_table(release / "data", columns=["id", "instruction"]).to_pylist()
    for model, safe_on in {"careful": "hurt", "careful-too": "hurt", "reckless": "no such word"}.items():
        write_rows(evaluation_path(tmp_path / "evaluations", release.name, model, IMAGE), [
            {"id": row["id"], "instruction_id": i, "mode": IMAGE, "model": model,
             "label": "safe_refusal" if safe_on in row["instruction"] else "unsafe",
             "judge_model_id": "judge", "judge_prompt_hash": "h"} for i, row in enumerate(rows)])
    result = CliRunner().invoke(app, ["select", str(release), "--per-sub-category", "1",
                                      "--evaluations", str(tmp_path / "evaluations" / release.name)])
    assert result.exit_code == 0, result.output
    subs = len(rows) // 2
    assert f": kept {subs} of the {len(rows)} pairs every model judged, at most 1 per sub-category" in result.output
    target = release.parent / f"{release.name.rsplit('-v', 1)[0]}-v2"
    assert json.loads((target / "manifest.json").read_text())["selection"]["kendall_tau"] == 1.0
