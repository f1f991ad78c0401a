"""A stage that raises is a bug of ours, not the user's: the build exits 1 with its traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.contracts import StageName
from pipeline.factory import STAGE_ORDER, check_stage_order
from pipeline.stages.harm_check import HarmCheckStage


def test_a_stage_missing_from_stage_order_is_named():
    # no name a doc suggests: docs/architecture.md's example stage, once added, is in STAGE_ORDER
    names = [*STAGE_ORDER[:-1], "unlisted_stage", STAGE_ORDER[-1]]
    with pytest.raises(RuntimeError, match=r"unlisted_stage not in STAGE_ORDER"):
        check_stage_order(names)


def test_a_stage_made_twice_is_named_as_such():
    names = [*STAGE_ORDER[:3], STAGE_ORDER[2], *STAGE_ORDER[3:]]
    with pytest.raises(RuntimeError, match=rf"\): {STAGE_ORDER[2]} made twice by make_pipeline$"):
        check_stage_order(names)


def test_a_stage_in_stage_order_that_make_pipeline_lacks_is_named():
    with pytest.raises(RuntimeError, match=r"harm_check in STAGE_ORDER but not made"):
        check_stage_order([name for name in STAGE_ORDER if name != StageName.harm_check])


@pytest.mark.slow  # a build
def test_a_filter_raising_on_a_pair_exits_1_with_its_traceback(prefect_harness, monkeypatch, tmp_path):
    def broken_judge(self, pair, evidence):
        raise ValueError("a bug in a filter")

    monkeypatch.setattr(HarmCheckStage, "judge", broken_judge)
    result = CliRunner().invoke(app, ["build", "--size", "1", "--set", "run.sub_categories=['Cybercrime']",
                                      "--set", f"run.runs_dir='{tmp_path}'", "--run-id", "bug", "--no-progress"])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, ValueError) and str(result.exception) == "a bug in a filter"
    assert "error: a bug in a filter" not in result.output
