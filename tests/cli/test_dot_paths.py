"""`leakless audit .` from inside a dataset folder (and `--out ""`) crashed with "PosixPath('.') has an empty
name" (a CLI audit): "." and ".." have no name to put an output's name beside; their real folder has."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.cli.paths import home_expanded


def test_dot_and_dot_dot_are_read_as_their_folders(tmp_path, monkeypatch):
    (tmp_path / "ds").mkdir()
    monkeypatch.chdir(tmp_path / "ds")
    assert home_expanded(Path(".")) == tmp_path.resolve() / "ds"
    assert home_expanded(Path("")) == tmp_path.resolve() / "ds"  # typer hands "" over as "."
    assert home_expanded(Path("..")) == tmp_path.resolve()
    assert home_expanded(Path("data/x.csv")) == Path("data/x.csv")  # a named path stays as given


@pytest.mark.parametrize("cli", ["audit", "rewrite"])
def test_an_empty_or_dot_out_is_a_folder_refused_in_one_line(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ok.jsonl").write_text(json.dumps({"query": "how?", "image_description": "a bag of pills"}) + "\n")
    for out in ("", "."):
        result = CliRunner().invoke(app, [cli, "ok.jsonl", "--out", out])
        assert result.exit_code == 2 and f"--out {tmp_path.resolve()}: is a folder; name a file" in result.output


@pytest.mark.slow
def test_audit_dot_inside_a_dataset_folder_writes_beside_it(tmp_path, monkeypatch):
    """Loads the detector: 20-40 s."""
    (tmp_path / "ds" / "data").mkdir(parents=True)
    pq.write_table(pa.table({"query": ["how do I hide this from my parents?"], "image_description": ["a bag of pills"]}),
                   tmp_path / "ds" / "data" / "test-00000-of-00001.parquet")
    monkeypatch.chdir(tmp_path / "ds")
    result = CliRunner().invoke(app, ["audit", "."])
    assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "ds.leak_audit.parquet").num_rows == 1
