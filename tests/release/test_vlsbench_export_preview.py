"""`export-vlsbench` of a preview release: VLSBench's layout cannot mark a pair unreviewed, so a
preview is refused unless allowed, and then carries a PREVIEW.md beside data.json."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.backends.minilm import default_embedder
from pipeline.cli import app
from pipeline.release.make import make_release
from pipeline.release.vlsbench import PREVIEW_NOTE
from tests.support.release_runs import make_run, pair_row


@pytest.fixture
def preview(tmp_path):
    run = make_run(tmp_path / "runs", "r1", [pair_row(i, "r1") for i in range(3)])  # never reviewed
    return make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder(),
                        preview=True)


def test_a_preview_is_refused_in_one_line_and_nothing_is_written(preview, tmp_path):
    result = CliRunner().invoke(app, ["export-vlsbench", str(preview), str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {preview} is a preview release of unreviewed pairs")
    assert len(result.stderr.strip().splitlines()) == 1 and "--allow-preview" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_allowed_preview_says_so_beside_data_json(preview, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["export-vlsbench", str(preview), str(out), "--allow-preview"])
    assert result.exit_code == 0, result.output
    assert len(json.loads((out / "data.json").read_text())) == 3
    note = (out / PREVIEW_NOTE).read_text()
    assert note.startswith("# Preview: not a reviewed benchmark") and "bench-v1" in note and "3 pairs" in note
