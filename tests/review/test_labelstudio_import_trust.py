"""A Label Studio export is not trusted to say who its annotators are or to date itself ahead of
everyone else (security audit 26): an e-mail in the file names no one, a time in the future is
refused, and a file nested too deeply to read is one error line and exit 2."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from tests.review.test_review_labelstudio import choice, shaped_like_an_export
from tests.support.review_runs import make_run

from pipeline.cli.app import app
from pipeline.review.batches import export_batches, load_batches
from pipeline.review.labelstudio_annotations import annotation_time
from pipeline.review.labelstudio_import import plan_import
from pipeline.review.store import ReviewStore


@pytest.fixture()
def batches(tmp_path):
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=1.0, annotators=["ann", "bob"])
    return load_batches(tmp_path / "fake")


def labelstudio_import(tmp_path, exported, *options: str):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported) if not isinstance(exported, str) else exported)
    return CliRunner().invoke(app, ["review", "labelstudio-import", "fake", str(path), "--runs-dir", str(tmp_path),
                                    *options])


def test_an_email_the_export_gives_names_no_annotator(batches, tmp_path):
    store = ReviewStore.for_runs(tmp_path)
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 11, "completed_by": {"id": 999, "email": "ann"},
                                   "result": [choice("verdict", "reject"), choice("reason", "low_quality")]}]
    plan = plan_import(exported, batches, {})
    assert plan.planned == [] and "is not assigned to labelstudio-user-999" in plan.skipped[0]
    result = labelstudio_import(tmp_path, exported)
    assert result.exit_code == 1 and "0 new decisions recorded" in result.output
    assert store.current(run_id="fake") == []
    # the operator's own mapping of that e-mail still names the user
    assert [p.annotator for p in plan_import(exported, batches, {"ann": "ann"}).planned] == ["ann"]


def test_an_annotation_dated_in_the_future_is_skipped(batches, tmp_path):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [{"id": 11, "completed_by": 7, "updated_at": "2999-01-01T00:00:00Z",
                                   "result": [choice("verdict", "reject"), choice("reason", "low_quality")]}]
    plan = plan_import(exported, batches, {"7": "ann"})
    assert plan.planned == [] and plan.skipped == [
        "task 100 annotation 11: updated_at '2999-01-01T00:00:00Z' is in the future"]
    result = labelstudio_import(tmp_path, exported, "--user", "7=ann")
    assert result.exit_code == 1 and ReviewStore.for_runs(tmp_path).current(run_id="fake") == []
    just_now = datetime.now(timezone.utc) + timedelta(minutes=1)   # Label Studio's clock a little ahead
    assert annotation_time({"updated_at": just_now.isoformat()}) is not None


def test_a_file_nested_too_deeply_is_one_error_line_and_exit_2(batches, tmp_path):
    result = labelstudio_import(tmp_path, "[" * 100_000 + "]" * 100_000, "--user", "7=ann")
    assert result.exit_code == 2 and result.output.strip().splitlines() == [
        f"error: {tmp_path / 'export.json'}: not a Label Studio export (JSON nested too deeply to read)"]
    assert not (tmp_path / "review.sqlite").exists()
