"""A new run's id is the UTC start time and the config's hash: the README's example ids and
`build --help` say so, so a run started at 01:13 in Kolkata named after 19:43 the day before is expected."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import load_config
from pipeline.env import PROJECT_ROOT
from pipeline.rundir import config_hash, new_run_id

RUN_ID = re.compile(r"(\d{8}-\d{6})-([0-9a-f]{6})")


def test_a_new_run_id_is_the_utc_time_and_the_config_hash(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        config = load_config()
        stamp, digest = RUN_ID.fullmatch(new_run_id(config)).groups()
    finally:
        monkeypatch.undo()
        time.tzset()
    started = datetime.strptime(stamp, "%Y%m%d-%H%M%S").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - started).total_seconds()) < 60 and digest == config_hash(config)[:6]


def test_the_readme_and_build_help_show_that_format():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    examples = re.findall(r"--run-id (\d[\w-]*)", readme)
    assert examples and all(RUN_ID.fullmatch(example) for example in examples)
    assert "A new run's id is the time the build started, in UTC" in readme
    help_page = " ".join(CliRunner().invoke(app, ["build", "--help"]).output.split())
    assert "default: a new id, the UTC start time and the config's hash" in help_page
