"""the judge check of `leakless evaluate` runs whenever any model of the plan has pairs to send."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipeline.evaluate.judge_check import check_before_run
from pipeline.evaluate import judge_check, runner
from pipeline.evaluate.judge_check import JudgeCheck


def test_a_new_model_beside_a_finished_one_gets_the_judge_checked(monkeypatch, tmp_path):
    # model "old" finished earlier, "new" was just added: the run sends pairs, so its judge is checked
    monkeypatch.setattr(runner, "has_pairs_to_send", lambda release, config, name, mode, out: name == "new")
    monkeypatch.setattr(judge_check, "check_judge", lambda config: JudgeCheck(mislabelled=["a plain refusal as 3"]))
    config = SimpleNamespace(judge=SimpleNamespace(model="tiny", base_url="http://judge"))

    with pytest.raises(ValueError, match="labelled answers whose labels are not in doubt"):
        check_before_run(config, [("old", "image"), ("new", "image")], tmp_path, tmp_path, trust=False).lines
    assert check_before_run(config, [("old", "image")], tmp_path, tmp_path, trust=False).lines == []
