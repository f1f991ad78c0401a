"""VLSBench's 60 released rows are read from a path (`--vlsbench-sample`, by default
../shared/reference/vlsbench_dev_sample.json from the folder a command runs in), never from a
copy in the project. A command that needs them says in one line which option to pass; one that
can do without them says it did."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.detect import hygiene, releak

DEFAULT = "../shared/reference/vlsbench_dev_sample.json"


@pytest.fixture()
def away_from_shared(tmp_path, monkeypatch):
    """Run from a folder with no ../shared beside it, as on a user's own clone."""
    folder = tmp_path / "clone"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_eval_public_reads_the_shared_sample_by_default_and_names_the_option_without_it(tmp_path, away_from_shared):
    corpus = tmp_path / "pairs.jsonl"
    corpus.write_text("")
    result = CliRunner().invoke(app, ["eval-public", "--data", str(corpus)])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"error: {DEFAULT}: no such file" in result.stderr and "pass --vlsbench-sample PATH" in result.stderr


def test_hygiene_without_the_shared_sample_says_it_was_not_read(away_from_shared, capsys, monkeypatch):
    monkeypatch.setattr(hygiene, "item_specific_terms", lambda data, sample: [("c", "t", {"team:dev": 1})]
                        if sample is None else pytest.fail("a sample was read"))
    assert hygiene.main([]) == 1
    error = capsys.readouterr().err
    assert f"VLSBench sample not read ({DEFAULT}: no such file; pass --vlsbench-sample PATH)" in error


def test_hygiene_with_a_named_sample_that_is_not_there_is_one_line_and_exit_2(tmp_path, capsys):
    assert hygiene.main(["--vlsbench-sample", str(tmp_path / "absent.json")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"error: {tmp_path / 'absent.json'}: no such file") and "\n" not in error


def test_releaks_without_the_sample_leave_out_its_split_alone():
    splits = {pair.split for pair in releak.releak_pairs()}
    assert splits == {"dev", "test"}


def test_releak_without_the_shared_sample_says_the_split_was_not_scored(away_from_shared, capsys, monkeypatch):
    class Flagless:
        version = "stand-in"

        def score(self, inputs):
            return [SimpleNamespace(leak=False) for _ in inputs]

    monkeypatch.setattr("pipeline.detect.LeakDetector", Flagless)
    releak.main([])
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].startswith("dev ") and lines[3].startswith("test ")
    assert lines[4] == f"evaluation_only   not scored (no VLSBench sample: {DEFAULT} is not here; " \
                       "pass --vlsbench-sample PATH)"


def test_releak_refuses_a_sample_that_is_not_the_recorded_one(tmp_path, capsys):
    other = tmp_path / "other.json"
    other.write_text(json.dumps([{"instruction_id": 1, "instruction": "What is this?", "image_description": "A boat."}]))
    with pytest.raises(SystemExit) as stopped:
        releak.main(["--vlsbench-sample", str(other)])
    assert stopped.value.code == 2
    assert "not the VLSBench sample recorded in evaluation_sets.toml (other.json's sha256 differs)" \
        in capsys.readouterr().err
