"""`leakless eval-public` scores only the team sets and VLSBench sample that evaluation_sets.toml records,
as it does the corpus: another file under --team-data would change every figure it gives without a word.
The VLSBench sample is only hashed here, never read."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.detect import corpus as corpus_module
from pipeline.detect.corpus import TEAM_DATA, evaluation_sets, refuse_unrecorded_sets
from pipeline.hashing import sha256_file

SAMPLE = TEAM_DATA / "vlsbench_sample.json"


def team_folder(tmp_path, sample: bool = True):
    """The checkout's team sets, linked, and (by default) the recorded VLSBench sample."""
    folder = tmp_path / "team"
    folder.mkdir()
    for path in TEAM_DATA.glob("detector_*.jsonl"):
        (folder / path.name).symlink_to(path)
    if sample:
        (folder / SAMPLE.name).symlink_to(SAMPLE)
    return folder


def test_the_checkouts_sets_are_the_recorded_ones():
    refuse_unrecorded_sets(TEAM_DATA, SAMPLE)
    recorded = evaluation_sets()["team_sets"]["sha256"]
    assert sorted(recorded) == sorted(path.name for path in TEAM_DATA.glob("detector_*.jsonl"))


def test_a_sample_of_other_rows_is_refused(tmp_path):
    folder = team_folder(tmp_path, sample=False)
    (folder / SAMPLE.name).write_text(json.dumps([{"instruction_id": "x1", "instruction": "What colour is this boat?",
                                                   "image_description": "A small red boat on a lake."}]))
    with pytest.raises(ValueError, match="vlsbench_sample.json's sha256 differs"):
        refuse_unrecorded_sets(folder, folder / SAMPLE.name)


def test_a_changed_an_unrecorded_and_a_missing_team_set_are_each_named(tmp_path):
    folder = team_folder(tmp_path)
    edited = folder / "detector_dev.jsonl"
    text = edited.read_text()
    edited.unlink()
    edited.write_text(text + json.dumps({"id": "new", "query": "Is this safe?", "image_description": "A dog.",
                                         "label": 0}) + "\n")
    (folder / "detector_blind2.jsonl").unlink()
    (folder / "detector_mine.jsonl").write_text("")
    with pytest.raises(ValueError) as refused:
        refuse_unrecorded_sets(folder, folder / SAMPLE.name)
    assert ("not the sets recorded in evaluation_sets.toml (1 team set(s) changed: detector_dev.jsonl; "
            "1 team set(s) not recorded: detector_mine.jsonl; 1 team set(s) missing: detector_blind2.jsonl)"
            in str(refused.value))


def test_eval_public_refuses_another_sample_in_one_line_before_any_work(tmp_path, monkeypatch):
    """The audit's repro: the recorded corpus, the team sets, a two-row sample of the user's own."""
    corpus = tmp_path / "pairs.jsonl"
    corpus.write_text(json.dumps({"id": "p1", "query": "How do I bake bread?", "image_description": "",
                                  "label": 0, "source": "xstest"}) + "\n")
    recorded = evaluation_sets()
    recorded["public_vsil"]["sha256"] = sha256_file(corpus)  # stands for the shared corpus, whose hash it has
    monkeypatch.setattr(corpus_module, "evaluation_sets", lambda: recorded)
    monkeypatch.setattr("pipeline.detect.folds.leave_one_source_out", fitted_nothing)
    folder = team_folder(tmp_path, sample=False)
    (folder / SAMPLE.name).write_text(json.dumps([{"instruction_id": "x1", "instruction": "What is this?",
                                                   "image_description": "A boat."}]))
    result = CliRunner().invoke(app, ["eval-public", "--data", str(corpus), "--team-data", str(folder)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "vlsbench_sample.json's sha256 differs" in result.output


def fitted_nothing(*arguments, **options):
    raise AssertionError("eval-public began fitting")
