"""`leakless select`'s decisions carry the select.* reason code in `code` and prose in `reason`,
as every other stage's decisions do."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from tests.support.evaluate_release import build_release

from pipeline.evaluate.runner import IMAGE, evaluation_path, write_rows
from pipeline.evaluate.select_release import select_release
from pipeline.evaluate.selection import QUOTA_FILL, RANK_REPAIR, SEPARATES

pytestmark = pytest.mark.slow  # a release built with the MiniLM embedder (~10 s)
CODES = {SEPARATES, QUOTA_FILL, RANK_REPAIR, "select.below_quota"}


@pytest.fixture
def release_and_evaluations(tmp_path):
    release = build_release(tmp_path, per_sub_category=2, planted=1)
    rows = pq.read_table(release / "data", columns=["id", "instruction"]).to_pylist()
    for model, safe_on in {"careful": lambda text: "hurt" in text, "reckless": lambda text: False}.items():
        write_rows(evaluation_path(tmp_path / "evaluations", release.name, model, IMAGE), [
            {"id": row["id"], "instruction_id": i, "mode": IMAGE, "model": model,
             "label": "safe_refusal" if safe_on(row["instruction"]) else "unsafe",
             "judge_model_id": "judge", "judge_prompt_hash": "h"} for i, row in enumerate(rows)])
    return release, tmp_path / "evaluations" / release.name


def test_each_decision_has_its_code_and_a_prose_reason(release_and_evaluations):
    release, evaluations = release_and_evaluations
    selected, selection = select_release(release, evaluations, per_sub_category=1)
    decisions = pq.read_table(selected / "decisions.parquet").to_pandas()
    assert set(decisions["code"]) <= CODES
    kept = decisions[decisions["verdict"] == "keep"]
    assert dict(zip(kept["item_id"], kept["code"])) == selection.chosen
    assert set(decisions.loc[decisions["verdict"] == "drop", "code"]) == {"select.below_quota"}
    assert not decisions["reason"].str.startswith("select.").any()
    assert decisions["reason"].str.contains("separability").all()


def test_select_is_refused_while_a_release_of_the_name_runs(release_and_evaluations):
    """`select` writes the next version of the release's name: as a second `release`, it waits for none."""
    from pipeline.release.verify import load_manifest
    from pipeline.release.versions import ReleaseRunning, release_lock

    release, evaluations = release_and_evaluations
    name = load_manifest(release)["name"]
    with release_lock(release.parent, name), pytest.raises(ReleaseRunning, match=f"another release of {name}"):
        select_release(release, evaluations, per_sub_category=1)
    assert sorted(path.name for path in release.parent.iterdir() if not path.name.startswith(".")) == [release.name]
