"""The Prefect API lost: before a build starts it is one line and exit 2; lost mid-build, the command
says so in one line and exits 75 (EX_TEMPFAIL) with the command that resumes, or, when the run had
finished, reports it as done (exit 0) with a note. An error of another server (an LLM's) is not that."""

from __future__ import annotations

import json
import socket

import httpx
import pandas as pd
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.rundir import RunDir
from tests.cli.test_run_lock import RUN_ID, build, fake_flow, not_notes

API = "http://127.0.0.1:9/api"  # what fake_flow's reachable_api_url answers


def connect_error(url: str) -> httpx.ConnectError:
    return httpx.ConnectError("[Errno 111] Connection refused", request=httpx.Request("POST", url))


def finish_then_lose_the_api(settings, run_id):
    run = RunDir(settings.run.runs_dir, run_id)
    run.path.mkdir(parents=True, exist_ok=True)
    (run.path / "summary.md").write_text("# leakless build\n\n3 seeds -> 7 accepted pairs\n")
    (run.path / "manifest.json").write_text(json.dumps({"rows": 7}))
    raise connect_error(f"{API}/artifacts/")


def test_the_api_lost_after_the_run_finished_reports_the_run_and_a_note(tmp_path, monkeypatch):
    fake_flow(monkeypatch, finish_then_lose_the_api)
    result = build(tmp_path)
    assert result.exit_code == 0, result.output
    assert "7 accepted pairs" in result.stdout
    assert f"run folder: {tmp_path / 'runs' / RUN_ID}" in result.stdout.splitlines()
    assert not_notes(result.stderr) == [] and "Traceback" not in result.output
    assert f"note: lost the Prefect server at {API} (ConnectError: [Errno 111] Connection refused) after the " \
           "run finished" in result.stderr


def test_the_api_lost_mid_build_is_one_line_with_the_resume_command_and_exit_75(tmp_path, monkeypatch):
    def lost(settings, run_id):
        raise connect_error(f"{API}/task_runs/")

    fake_flow(monkeypatch, lost)
    result = build(tmp_path)
    assert result.exit_code == 75, result.output
    assert not_notes(result.stderr) == [
        f"error: lost the Prefect server at {API} (ConnectError: [Errno 111] Connection refused); finished "
        f"batches are checkpointed: once it answers, rerun with `leakless build --set "
        f"'run.runs_dir=\"{tmp_path / 'runs'}\"' --set run.size=1 --run-id {RUN_ID}` to resume"]


def test_the_api_lost_while_a_finished_run_is_rebuilt_is_not_taken_for_the_run_finishing(tmp_path, monkeypatch):
    """A rerun of a finished run (its transient failures tried again) keeps the old manifest until it
    finishes: lost meanwhile, it is exit 75, not the old run's summary and exit 0."""
    finished = RunDir(tmp_path / "runs", RUN_ID)
    finished.path.mkdir(parents=True)
    pd.DataFrame({"seed_id": ["s1"], "state": ["failed"]}).to_parquet(finished.path / "ledger.parquet")
    pd.DataFrame({"seed_id": ["s1"], "transient": [True]}).to_parquet(finished.path / "failures.parquet")
    (finished.path / "manifest.json").write_text(json.dumps({"rows": 7}))

    def lost(settings, run_id):
        raise connect_error(f"{API}/task_runs/")

    fake_flow(monkeypatch, lost)
    result = build(tmp_path)
    assert result.exit_code == 75, result.output
    assert "run folder:" not in result.stdout


def test_another_servers_connection_error_is_not_taken_for_the_api(tmp_path, monkeypatch):
    def llm_lost(settings, run_id):
        raise connect_error("http://127.0.0.1:8111/v1/chat/completions")

    fake_flow(monkeypatch, llm_lost)
    result = build(tmp_path)
    assert result.exit_code == 1 and isinstance(result.exception, httpx.ConnectError)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_configured_server_that_does_not_answer_is_one_line_before_anything_loads(tmp_path, monkeypatch):
    loaded = []
    monkeypatch.setattr("pipeline.cli.build.make_stages", lambda *_: loaded.append(1))
    url = f"http://127.0.0.1:{closed_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", url)
    result = CliRunner().invoke(app, ["build", "--size", "1", "--set", f'run.runs_dir="{tmp_path / "runs"}"',
                                      "--run-id", RUN_ID, "--no-progress"])
    assert result.exit_code == 2, result.output
    lines = not_notes(result.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot reach the Prefect server at {url}"), lines
    assert not loaded and not (tmp_path / "runs" / RUN_ID).exists()


def test_an_api_timeout_without_a_message_is_still_one_line_and_exit_75(tmp_path, monkeypatch):
    # httpx's async client raises ReadTimeout('') on a stalled server: its empty text was an IndexError
    # traceback in place of the resume line (review 35)
    def stalled(settings, run_id):
        raise httpx.ReadTimeout("", request=httpx.Request("POST", f"{API}/logs/"))

    fake_flow(monkeypatch, stalled)
    result = build(tmp_path)
    assert result.exit_code == 75, result.output
    [line] = not_notes(result.stderr)
    assert line.startswith(f"error: lost the Prefect server at {API} (ReadTimeout: ReadTimeout); finished ")
