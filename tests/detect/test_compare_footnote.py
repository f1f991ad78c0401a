"""`leakless eval-compare` explains its star only where a row carries one."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.detect.compare import RowScores

FOOTNOTE = "* a one-label source"


def scores(sources: list[str], labels: list[int]) -> RowScores:
    count = len(labels)
    score = np.linspace(0.05, 0.95, count)
    return RowScores(ids=[f"r{i}" for i in range(count)], sources=sources, fitted_on=np.zeros(count, dtype=bool),
                     labels=np.array(labels), held_out_as_duplicate=np.zeros(count, dtype=bool),
                     score=score, text_harm=score, reveal=score, baseline=np.zeros(count))


def compared(tmp_path, rows: RowScores) -> str:
    rows.write(tmp_path / "before.parquet")
    dataclasses.replace(rows, score=rows.score[::-1].copy()).write(tmp_path / "after.parquet")
    result = CliRunner().invoke(app, ["eval-compare", str(tmp_path / "before.parquet"),
                                      str(tmp_path / "after.parquet")], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def test_no_footnote_when_every_source_has_both_labels(tmp_path):
    output = compared(tmp_path, scores(["mine"] * 12, [0, 1] * 6))
    assert "mine" in output and "*" not in output


def test_the_footnote_explains_a_starred_one_label_source(tmp_path):
    output = compared(tmp_path, scores(["harmful"] * 6 + ["benign"] * 6, [1] * 6 + [0] * 6))
    harmful = next(line for line in output.splitlines() if "harmful" in line)
    assert "*" in harmful and FOOTNOTE in output


def test_score_files_whose_names_are_not_utf_8_are_written_and_compared(tmp_path):
    # A Latin-1 name on an old share: pyarrow takes no such path, so the files are opened by Python.
    latin = tmp_path / os.fsdecode(b"caf\xe9")
    latin.mkdir()
    assert "mine" in compared(latin, scores(["mine"] * 12, [0, 1] * 6))


def test_rows_renamed_by_position_are_named_as_the_cause(tmp_path):
    """Scores written before a row without an id was named "line 3" gave it "3": the files differ."""
    from pipeline.detect.compare import compare

    rows = scores(["mine"] * 4, [0, 1, 0, 1])
    older = dataclasses.replace(rows, ids=["r0", "3", "r2", "r3"])
    newer = dataclasses.replace(rows, ids=["r0", "line 3", "r2", "r3"])
    with pytest.raises(ValueError, match="1 row\\(s\\) without an id are named otherwise, e.g. '3' and 'line 3'"):
        compare(older, newer)
