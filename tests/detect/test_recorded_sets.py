"""`leakless eval-public` scores only the team sets and VLSBench sample that evaluation_sets.toml records,
as it does the corpus: another file under --team-data, or another --vlsbench-sample, would change every
figure it gives without a word. The VLSBench sample is only hashed here, never read, and only where the
shared reference folder has it: the project holds no copy."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.detect import corpus as corpus_module
from pipeline.detect.corpus import TEAM_DATA, evaluation_sets, refuse_unrecorded_sets
from pipeline.hashing import sha256_file


def team_folder(tmp_path):
    """The checkout's team sets, linked."""
    folder = tmp_path / "team"
    folder.mkdir()
    for path in TEAM_DATA.glob("detector_*.jsonl"):
        (folder / path.name).symlink_to(path)
    return folder


def other_sample(tmp_path):
    """A file of VLSBench's layout that is not the recorded sample."""
    sample = tmp_path / "my_sample.json"
    sample.write_text(json.dumps([{"instruction_id": "x1", "instruction": "What colour is this boat?",
                                   "image_description": "A small red boat on a lake."}]))
    return sample


def test_the_checkouts_sets_and_the_shared_sample_are_the_recorded_ones(reference_dir):
    refuse_unrecorded_sets(TEAM_DATA, reference_dir / "vlsbench_dev_sample.json")
    recorded = evaluation_sets()["team_sets"]["sha256"]
    assert sorted(recorded) == sorted(path.name for path in TEAM_DATA.glob("detector_*.jsonl"))


def test_a_sample_of_other_rows_is_refused(tmp_path):
    with pytest.raises(ValueError, match="my_sample.json's sha256 differs"):
        refuse_unrecorded_sets(team_folder(tmp_path), other_sample(tmp_path))


def test_a_changed_an_unrecorded_and_a_missing_team_set_are_each_named(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_module, "sample_hash_problem", lambda sample: None)  # the sets alone are asked about
    folder = team_folder(tmp_path)
    edited = folder / "detector_dev.jsonl"
    text = edited.read_text()
    edited.unlink()
    edited.write_text(text + json.dumps({"id": "new", "query": "Is this safe?", "image_description": "A dog.",
                                         "label": 0}) + "\n")
    (folder / "detector_blind2.jsonl").unlink()
    (folder / "detector_mine.jsonl").write_text("")
    with pytest.raises(ValueError) as refused:
        refuse_unrecorded_sets(folder, tmp_path / "recorded_sample.json")
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
    result = CliRunner().invoke(app, ["eval-public", "--data", str(corpus), "--team-data", str(team_folder(tmp_path)),
                                      "--vlsbench-sample", str(other_sample(tmp_path))])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "my_sample.json's sha256 differs" in result.output


def fitted_nothing(*arguments, **options):
    raise AssertionError("eval-public began fitting")
