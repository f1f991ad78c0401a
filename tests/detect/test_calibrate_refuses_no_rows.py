"""`leakless calibrate --data empty.jsonl` fitted on the team sets alone for minutes, silently, and would have
replaced the shipped calibration (a CLI audit); a folder as --data was called "no such file"."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.detect.corpus import fitting_rows


def test_a_corpus_with_no_fitting_rows_is_refused(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(ValueError, match="no public corpus rows to fit on"):
        fitting_rows(tmp_path / "empty.jsonl")
    only_evaluation = tmp_path / "siuo.jsonl"
    only_evaluation.write_text(json.dumps({"id": "1", "query": "q", "label": 1, "source": "siuo"}) + "\n")
    with pytest.raises(ValueError, match="only evaluation-only sources"):
        fitting_rows(only_evaluation)


def test_calibrate_says_so_in_one_line_and_writes_nothing(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    out = tmp_path / "calibration.json"
    result = CliRunner().invoke(app, ["calibrate", "--data", str(tmp_path / "empty.jsonl"), "--out", str(out)])
    assert result.exit_code == 2 and "no public corpus rows to fit on" in result.output and not out.exists()


@pytest.mark.parametrize("command", [["calibrate", "--data"], ["eval-public", "--data"], ["eval-compare"]])
def test_a_folder_is_named_as_a_folder(tmp_path, command):
    args = [*command, str(tmp_path)] + ([str(tmp_path)] if command == ["eval-compare"] else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and f"{tmp_path}: is a folder; name a file" in result.output
