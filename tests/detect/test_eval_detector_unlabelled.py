"""`eval-detector --keep-fitting-rows` scores every row, so the fitting keys only label rows in-sample:
with them missing or stale it runs, and says in one line why no row could be labelled. Without the
flag it still refuses, since it could not leave the fitting rows out."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.detect.calibration import CALIBRATION_FILE
from pipeline.detect.fitting_keys import KEYS_FILE_NAME, write_keys
from tests.detect.test_eval_detector_repeats import (LEAKLESS, LEAKY, OTHER_LEAKLESS, OTHER_LEAKY, SCENE, fitted_query,
                                                     write)


@pytest.mark.parametrize("keys", ["missing", "stale"])
def test_keep_fitting_rows_runs_without_usable_keys_and_says_why_no_row_is_labelled(tmp_path, monkeypatch, keys):
    calibration = tmp_path / "calibration.json"
    calibration.write_text(CALIBRATION_FILE.read_text())
    if keys == "stale":
        fitted_on = json.loads(calibration.read_text())["fitted_on"]
        write_keys([], {**fitted_on, "sha256": "0" * 64}, tmp_path / KEYS_FILE_NAME)
    monkeypatch.setattr("pipeline.detect.fitting_keys.CALIBRATION_FILE", calibration)
    path = write(tmp_path / "mine.jsonl", [{"id": i, "query": query, "image_description": SCENE, "label": label}
                                           for i, (query, label) in enumerate([(LEAKY, 1), (LEAKLESS, 0),
                                                                               (OTHER_LEAKY, 1), (OTHER_LEAKLESS, 0),
                                                                               (fitted_query(), 1)])])
    refused = CliRunner().invoke(app, ["eval-detector", path])
    assert refused.exit_code == 2 and "fitting_keys.json" in refused.output

    result = CliRunner().invoke(app, ["eval-detector", path, "--keep-fitting-rows"])
    assert result.exit_code == 0, result.output
    assert re.search(r"pairs \(leaky / leakless\)\s*│\s*5 \(3 / 2\)", result.output)  # the fitted row too
    assert re.search(r"repeat the detector's fitting rows\s*│\s*not checked \(see below\)", result.output)
    why = "no such file" if keys == "missing" else "written for another calibration"
    lines = [line for line in result.output.splitlines() if "in-sample" in line]
    assert len(lines) == 1 and lines[0].startswith("no row could be labelled in-sample") and why in lines[0]
