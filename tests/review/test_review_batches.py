"""Review export: stratified batches, overlap assignment, evidence carried over, no overwrite."""

from __future__ import annotations

import json

import pytest
from tests.support.review_runs import CATEGORIES, make_run

from pipeline.review.batches import export_batches, load_batches


def test_batches_are_stratified_and_carry_the_pipelines_evidence(tmp_path):
    run = make_run(tmp_path, pairs=12)
    manifests = export_batches(run, batch_size=6)
    assert [m.batch_id for m in manifests] == ["fake-b000", "fake-b001"]
    batches = load_batches(run)
    for batch in batches:
        # round-robin across categories: 6 pairs of a 6-category run, one of each
        assert sorted(item.category for item in batch.items.values()) == sorted(CATEGORIES)
        assert batch.manifest.assignment == {}
        assert batch.items_for("anyone") == [batch.items[i] for i in batch.manifest.pair_ids]
    item = batches[0].items[batches[0].manifest.pair_ids[0]]
    assert (item.leak_score, item.leak_threshold, item.leak_spans) == (0.1, 0.5, ["items"])
    assert (item.leak_text_harm, item.leak_reveal, item.leak_code) == (0.1, 0.05, "leak.none")
    assert [c.stage for c in item.checks] == ["leak_filter"]      # rewrite attempts are not verdicts
    assert item.harm_check is None
    assert (run / item.image).is_file()                            # referenced inside the run, not copied
    on_disk = json.loads((run / "review/batches/fake-b000/manifest.json").read_text())
    assert on_disk["run_id"] == "fake" and len(on_disk["pair_ids"]) == 6 and on_disk["created"]
    every_pair = [pid for batch in batches for pid in batch.manifest.pair_ids]
    assert sorted(every_pair) == [f"pair{i:04d}" for i in range(12)]


def test_overlap_assigns_a_share_of_each_batch_to_a_second_annotator(tmp_path):
    run = make_run(tmp_path, pairs=12)
    manifests = export_batches(run, batch_size=6, overlap=0.5, annotators=["ann", "bob", "cy"])
    first, second = manifests
    assert list(first.assignment) == ["ann", "bob"] and list(second.assignment) == ["bob", "cy"]
    assert first.assignment["ann"] == first.pair_ids
    assert first.assignment["bob"] == first.pair_ids[:3]
    assert first.pairs_for("cy") == []


def test_export_refuses_to_overwrite_and_checks_its_arguments(tmp_path):
    run = make_run(tmp_path, pairs=3)
    export_batches(run, batch_size=2)
    with pytest.raises(ValueError, match="already exported"):
        export_batches(run, batch_size=2)
    with pytest.raises(ValueError, match="overlap"):
        export_batches(make_run(tmp_path, "other", pairs=3), overlap=1.5)
    assert not (tmp_path / "other" / "review" / "batches").exists()


def test_an_overlap_needs_two_different_annotators_and_nothing_is_written_without_them(tmp_path):
    run = make_run(tmp_path, pairs=4)
    for annotators in ([], ["ann"]):
        with pytest.raises(ValueError, match="--overlap 0.5 needs at least two --annotators"):
            export_batches(run, batch_size=2, overlap=0.5, annotators=annotators)
    with pytest.raises(ValueError, match="--annotators names ann more than once"):
        export_batches(run, batch_size=2, overlap=0.5, annotators=["ann", "ann"])
    assert not (run / "review").exists()
    assert len(export_batches(run, batch_size=2, annotators=["ann"])) == 2   # one annotator, no overlap: fine
