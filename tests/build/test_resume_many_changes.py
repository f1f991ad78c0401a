"""A resume refused for a changed config names the first three changes and says how many more there
are: a list cut at three with nothing said would read as the whole difference."""

from __future__ import annotations

import pytest

from pipeline.config import ConfigError, load_config
from pipeline.rundir import RunDir


def test_a_refused_resume_counts_the_changes_it_does_not_name(tmp_path):
    base = ["run.size=1", f"run.runs_dir='{tmp_path}'"]
    run = RunDir(tmp_path, "r1")
    run.claim(load_config(None, base))
    changed = load_config(None, [*base, "leak_filter.threshold=0.4", "rewrite.max_attempts=2",
                                 "run.queries_per_seed=2", "run.size=2", "run.categories=['Illegal Activity']"])
    with pytest.raises(ConfigError) as refused:
        run.check(changed)
    message = str(refused.value)
    assert message.startswith("run r1 exists with a different config (")
    assert message.count(" -> ") == 3 and "; and 2 more); use a new --run-id" in message
