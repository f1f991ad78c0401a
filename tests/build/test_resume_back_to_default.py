"""A resume that drops a `--set` the run was claimed with goes back to the default: that changes what
the run makes (its later batches judged at another threshold), so it is refused like any other change."""

from __future__ import annotations

import pytest

from pipeline.config import ConfigError, load_config
from pipeline.rundir import RunDir


def test_a_resume_that_returns_a_set_value_to_its_default_is_refused(tmp_path):
    run = RunDir(tmp_path, "r1")
    run.claim(load_config(None, ["leak_filter.threshold=0.4"]))
    with pytest.raises(ConfigError, match=r"leak_filter\.threshold: 0\.4 -> unset \(the default\)"):
        run.claim(load_config(None, []))
