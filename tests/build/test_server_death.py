"""A build whose LLM server fails mid-run finishes (every seed in one terminal state, exit 0, as for
any failed seed) and says in its last line how many seeds a rerun of the run id tries again."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer, FaultPlan

pytestmark = pytest.mark.slow  # two builds

RUN_ID = "server-down"


def write_config(path: Path, base_url: str, runs: Path, cache: Path, max_retries: int = 0) -> Path:
    """A one-sub-category build whose rewriter is the model at `base_url` (no retries: a failure is final)."""
    path.write_text(f"""
[run]
size = 1
sub_categories = ["Cybercrime"]
runs_dir = "{runs}"
[backends]
rewriter = "llm"
[llm]
cache_path = "{cache}"
[llm.endpoints.default]
base_url = "{base_url}"
api_key_env = "{FAKE_KEY_ENV}"
max_retries = {max_retries}
""")
    return path


def build(config: Path):
    return CliRunner().invoke(app, ["build", "--config", str(config), "--run-id", RUN_ID, "--no-progress"])


def test_seeds_lost_to_a_failing_server_are_counted_in_the_last_line_and_a_rerun_builds_them(
        prefect_harness, monkeypatch, tmp_path):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-server-death")
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("500",))) as server:
        config = write_config(tmp_path / "c.toml", server.base_url, tmp_path / "runs", tmp_path / "llm.sqlite")
        failing = build(config)
        assert failing.exit_code == 0, failing.output
        ledger = pd.read_parquet(tmp_path / "runs" / RUN_ID / "ledger.parquet")
        failed = int((ledger["state"] == "failed").sum())
        assert failed > 0
        last = failing.stderr.strip().splitlines()[-1]
        assert last == (f"note: {failed} seed{'s' if failed != 1 else ''} failed on transient errors "
                        "(a server unreachable or failing, timeouts; each in failures.parquet); once the server "
                        f"answers, `leakless build --config {config} --run-id {RUN_ID}` tries them again")
        assert f"{failed} seed" in (tmp_path / "runs" / RUN_ID / "summary.md").read_text()

        server.state.faults = FaultPlan()  # the server is back
        back = build(config)
    assert back.exit_code == 0, back.output
    assert "transient" not in back.stderr
    ledger = pd.read_parquet(tmp_path / "runs" / RUN_ID / "ledger.parquet")
    assert ledger["seed_id"].is_unique and "failed" not in set(ledger["state"])
