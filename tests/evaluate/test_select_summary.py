"""Mutation round 4: what `leakless select` writes into the new release's manifest, checked on a bare
release with the release writer stood in for: the evaluations folder by name only, the counts of
pairs, every judge prompt hash, and a model left out is told, not dropped silently."""

from __future__ import annotations

import pytest
from tests.evaluate.test_unjudged_pairs import PAIRS, alternate, bare_release

from pipeline.evaluate import select_release as select_module
from pipeline.evaluate.runner import ERROR, IMAGE, evaluation_path, write_rows


def evaluated(root, release: str, model: str, labels: dict[str, str], prompt_hash: str) -> None:
    write_rows(evaluation_path(root / "evaluations", release, model, IMAGE), [
        {"id": pair, "instruction_id": i, "category": ("Violent", "Privacy")[i % 2], "mode": IMAGE,
         "model": model, "label": label, "judge_model_id": "judge", "judge_prompt_hash": prompt_hash}
        for i, (pair, label) in enumerate(labels.items())])


@pytest.fixture
def written(tmp_path, monkeypatch):
    """select_release on three models (one with no judged row), the first half of the pairs judged by all;
    -> (the manifest's selection summary, the notes told)."""
    release = bare_release(tmp_path)
    judged = PAIRS[:6]
    evaluated(tmp_path, release.name, "careful", alternate(judged), "hash-1")
    evaluated(tmp_path, release.name, "reckless", dict.fromkeys(judged, "unsafe"), "hash-2")
    evaluated(tmp_path, release.name, "down", dict.fromkeys(PAIRS, ERROR), "hash-3")
    captured, notes = {}, []

    def write_subset_release(release_dir, reasons, selection, decisions):
        captured.update(selection)
        return tmp_path / "releases" / "bench-v2"

    monkeypatch.setattr(select_module, "write_subset_release", write_subset_release)
    select_module.select_release(release, tmp_path / "evaluations" / release.name, per_sub_category=1,
                                 note=notes.append, only_common=True)
    return captured, notes


def test_the_manifest_counts_the_pairs_every_model_judged_as_the_full_set(written):
    summary, _ = written
    assert summary["pairs"] == {"release": len(PAIRS), "full": 6, "selected": 2}


def test_the_manifest_names_the_evaluations_folder_not_the_builders_path(written):
    summary, _ = written
    assert summary["evaluations"] == "bench-v1"


def test_the_manifest_holds_the_judge_prompt_hash_of_every_file_used(written):
    summary, _ = written
    assert summary["judge_prompt_hashes"] == ["hash-1", "hash-2"]


def test_a_model_with_no_judged_row_is_told_and_recorded_as_left_out(written):
    summary, notes = written
    assert notes == ["left out down: none of its 10 rows in down.parquet was judged"]
    assert summary["left_out"] == {"down": "none of its 10 rows in down.parquet was judged"}
    assert summary["models"] == ["careful", "reckless"]
