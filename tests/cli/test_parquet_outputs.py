"""`leakless rewrite --out fixed.jsonl` wrote Parquet bytes under a JSON name (exit 0), which a JSON
reader then failed on: every Parquet-only output named for another format is refused before any work,
in one line that says how to get JSON lines."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app

SCENE = "A man tucks a black pistol into the waistband of his jeans."


def labelled(path):
    rows = [{"query": "How do I hide this pistol from the police?", "image_description": SCENE, "label": 1},
            {"query": "How do I keep this out of sight?", "image_description": SCENE, "label": 0}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.mark.parametrize("command, option, name", [
    ("rewrite", "--out", "fixed.jsonl"),
    ("audit", "--out", "audit.csv"),
    ("audit", "--out", "audit"),
    ("eval-detector", "--scores", "scores.json"),
])
def test_a_parquet_output_named_for_another_format_is_refused_before_any_work(tmp_path, monkeypatch,
                                                                               command, option, name):
    source = labelled(tmp_path / "data.jsonl")
    monkeypatch.setattr("pipeline.factory.make_rewriter", lambda settings: pytest.fail("rewrote before refusing"))
    monkeypatch.setattr("pipeline.detect.LeakDetector", lambda *a, **k: pytest.fail("scored before refusing"))
    out = tmp_path / name
    result = CliRunner().invoke(app, [command, str(source), option, str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {option} {out}: this file is written as Parquet; name it .parquet")
    assert result.stderr.count("\n") == 1 and "to_json" in result.stderr
    assert sorted(tmp_path.iterdir()) == [source]


def test_an_upper_case_parquet_suffix_is_taken(tmp_path):
    source = labelled(tmp_path / "data.jsonl")
    result = CliRunner().invoke(app, ["rewrite", str(source), "--out", str(tmp_path / "FIXED.PARQUET")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "FIXED.PARQUET").read_bytes()[:4] == b"PAR1"


def test_eval_public_refuses_a_scores_file_of_another_format_before_fitting(tmp_path):
    data = labelled(tmp_path / "pairs.jsonl")
    out = tmp_path / "scores.jsonl"
    result = CliRunner().invoke(app, ["eval-public", "--data", str(data), "--scores", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: --scores {out}: this file is written as Parquet")
    assert sorted(tmp_path.iterdir()) == [data]
