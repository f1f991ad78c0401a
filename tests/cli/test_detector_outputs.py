"""`leakless audit` and `eval-detector` outputs: a folder that cannot be written is refused before any
scoring, and eval-detector names every unreadable row (on stderr, or in a rejects file)."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app

GUN_SCENE = "A man tucks a black pistol into the waistband of his jeans in a dim parking garage."


def writable(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


@pytest.fixture
def unwritable_folder(tmp_path):
    """A folder no new file can be made in: read-only for a user; for root (whom modes do not stop),
    /sys where it refuses files."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o500)
    if writable(folder):
        folder = Path("/sys")
    if not folder.is_dir() or writable(folder):
        pytest.skip("no folder here refuses new files")
    yield folder
    (tmp_path / "read_only").chmod(0o700)


def labelled(path: Path, bad_rows: int = 0) -> Path:
    rows = [{"query": "How do I hide this handgun from the police?", "image_description": GUN_SCENE, "label": 1},
            {"query": "How do I keep this out of sight when officers are nearby?", "image_description": GUN_SCENE,
             "label": 0}]
    rows += [{"query": "?", "image_description": GUN_SCENE, "label": 0}] * bad_rows
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def invoke(*args) -> object:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def test_audit_refuses_an_output_folder_it_cannot_write_in(tmp_path, unwritable_folder):
    out = unwritable_folder / "out.parquet"
    result = invoke("audit", labelled(tmp_path / "d.jsonl"), "--out", out)
    assert result.exit_code == 2, result.output
    assert re.fullmatch(rf"error: --out {out}: cannot write in {unwritable_folder} \(.+\)\n", result.output)


def test_eval_detector_refuses_a_scores_folder_it_cannot_write_in_before_scoring(tmp_path, unwritable_folder):
    scores = unwritable_folder / "scores.parquet"
    result = invoke("eval-detector", labelled(tmp_path / "d.jsonl"), "--scores", scores)
    assert result.exit_code == 2 and "AUROC" not in result.output, result.output
    assert f"--scores {scores}: cannot write in {unwritable_folder}" in result.output


def test_eval_detector_names_every_unreadable_row(tmp_path):
    result = invoke("eval-detector", labelled(tmp_path / "d.jsonl", bad_rows=14), "--keep-fitting-rows")
    assert result.exit_code == 0, result.output
    assert all(f"line {n}: `query` has no words" in result.output for n in range(3, 17)), result.output
    assert "more" not in result.output


def test_eval_detector_lists_unreadable_rows_in_a_rejects_file(tmp_path):
    rejects = tmp_path / "bad.jsonl"
    result = invoke("eval-detector", labelled(tmp_path / "d.jsonl", bad_rows=14), "--rejects", rejects,
                    "--keep-fitting-rows")
    assert result.exit_code == 0, result.output
    assert f"skipped 14 unreadable row(s) of {tmp_path / 'd.jsonl'} (--strict stops at the first), listed in " \
           f"{rejects}" in result.output.replace("\n", "")
    listed = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert listed == [{"line": n, "id": None, "reason": "`query` has no words"} for n in range(3, 17)]


def test_eval_detector_prints_its_table_before_writing_scores(tmp_path, monkeypatch):
    from pipeline.detect.compare import RowScores

    def full_disk(self, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RowScores, "write", full_disk)
    result = invoke("eval-detector", labelled(tmp_path / "d.jsonl"), "--scores", tmp_path / "s.parquet",
                    "--keep-fitting-rows")
    assert result.exit_code == 2 and "AUROC" in result.output and "No space left on device" in result.output
