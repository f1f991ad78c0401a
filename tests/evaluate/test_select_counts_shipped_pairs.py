"""`leakless select` counts what shipped: a chosen pair the hard block drops from the selected version
(a release made under older rules) is not among the "kept N" the command prints nor in the manifest's
`selection.pairs.selected`; a note names the drops and their rules. A selection the hard block left
whole prints and records what it always did."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.evaluate.runner import IMAGE, evaluation_path, write_rows
from tests.release.test_subset_release import quick_release
from tests.release.test_subset_release_guardrail import shipped_under_older_rules


def evaluated(tmp_path, release) -> None:
    """Two models that disagree on every pair, so each pair separates them and tau is defined."""
    ids = pq.read_table(release / "dedup_index.parquet")["id"].to_pylist()
    for model, label in {"careful": "safe_refusal", "reckless": "unsafe"}.items():
        write_rows(evaluation_path(tmp_path / "evaluations", release.name, model, IMAGE), [
            {"id": pair_id, "instruction_id": i, "mode": IMAGE, "model": model, "label": label,
             "judge_model_id": "judge", "judge_prompt_hash": "h"} for i, pair_id in enumerate(sorted(ids))])


def select(tmp_path, release):
    return CliRunner().invoke(app, [
        "select", release.name, "--per-sub-category", "10", "--evaluations",
        str(tmp_path / "evaluations" / release.name), "--releases-dir", str(release.parent)])


def selection_pairs(folder) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["selection"]["pairs"]


def test_the_kept_count_and_the_manifest_count_the_pairs_that_shipped(tmp_path):
    source = quick_release(tmp_path)
    shipped_under_older_rules(source, blocked=1)
    evaluated(tmp_path, source)

    result = select(tmp_path, source)

    assert result.exit_code == 0, result.output
    selected = source.parent / "bench-v2"
    assert "kept 3 of the 4 pairs every model judged" in result.stdout
    assert ("note: 1 chosen pair(s) dropped by the guardrail (guardrail.private_person:street_address 1); "
            "the safe rates and Kendall's tau below are over the pairs as chosen") in result.stderr
    assert selection_pairs(selected) == {"release": 4, "full": 4, "selected": 3, "chosen": 4}
    assert json.loads((selected / "manifest.json").read_text(encoding="utf-8"))["rows"] == 3


def test_a_selection_the_hard_block_leaves_whole_is_counted_as_before(tmp_path):
    source = quick_release(tmp_path)
    evaluated(tmp_path, source)

    result = select(tmp_path, source)

    assert result.exit_code == 0, result.output
    assert "kept 4 of the 4 pairs every model judged" in result.stdout and "guardrail" not in result.stderr
    assert selection_pairs(source.parent / "bench-v2") == {"release": 4, "full": 4, "selected": 4}
