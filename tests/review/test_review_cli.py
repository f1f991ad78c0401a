"""`leakless review ...` on a small run: outputs, and one-line errors with exit code 2 on bad input."""

from __future__ import annotations

import json

import pytest

from tests.support.review_runs import make_run
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.review.store import ReviewStore

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds


def invoke(*args: str):
    return CliRunner().invoke(app, ["review", *args])


def assert_user_error(result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and fragment in result.output and "Traceback" not in result.output


def test_export_tokens_and_label_studio_files(tmp_path):
    make_run(tmp_path, pairs=5)
    runs = str(tmp_path)
    exported = invoke("export", "fake", "--runs-dir", runs, "--batch-size", "3", "--annotators", "ann,bob")
    assert exported.exit_code == 0 and "fake-b000\t3 pairs\tann" in exported.output
    token = invoke("tokens", "add", "ann", "--batches", "fake-b000", "--runs-dir", runs).output.strip()
    assert ReviewStore.for_runs(tmp_path).token(token).batches == ["fake-b000"]
    assert "ann\tfake-b000" in invoke("tokens", "list", "--runs-dir", runs).output
    assert invoke("labelstudio-export", str(tmp_path / "fake")).exit_code == 0
    tasks = json.loads((tmp_path / "fake/review/labelstudio/tasks.json").read_text())
    assert len(tasks) == 5 and (tmp_path / "fake/review/labelstudio/config.xml").read_text().startswith("<View>")
    imported = invoke("import", "fake", "--runs-dir", runs)
    assert imported.exit_code == 0 and "unreviewed=5" in imported.output


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    make_run(tmp_path, pairs=2)
    runs = str(tmp_path)
    assert_user_error(invoke("export", "missing", "--runs-dir", runs), "not a finished run")
    assert_user_error(invoke("export", "fake", "--runs-dir", runs, "--overlap", "2"), "--overlap")
    assert_user_error(invoke("status", "fake", "--runs-dir", runs), "not exported for review")
    assert invoke("export", "fake", "--runs-dir", runs).exit_code == 0
    assert_user_error(invoke("export", "fake", "--runs-dir", runs), "already exported")
    assert_user_error(invoke("tokens", "add", "ann", "--batches", "nope", "--runs-dir", runs), "no exported batch")
    not_json = tmp_path / "export.json"
    not_json.write_text("{oops")
    assert_user_error(invoke("labelstudio-import", "fake", str(not_json), "--runs-dir", runs), "not JSON")
