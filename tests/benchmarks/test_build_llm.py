"""The LLM build benchmark still runs: its children call the build as the flow does."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from pipeline import run_lock
from pipeline.env import PROJECT_ROOT
from pipeline.rundir import RunDir


@pytest.mark.slow
def test_a_small_llm_build_benchmark_runs_end_to_end(tmp_path):
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "benchmarks" / "build_llm.py"), "--seeds", "19",
                           "--latency-ms", "5", "--keep", str(tmp_path)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["seeds"] == 19 and figures["pairs"] > 0
    assert {"seed_writer", "leak_rewriter", "pair_checker"} <= set(figures["requests_by_role"])
    assert set(figures["mean_request_ms"]) == set(figures["requests_by_role"]) - {"element_writer"}
    assert min(figures["mean_request_ms"].values()) >= 5  # never under the server's latency
    assert figures["same_rows_as_plain"]["identical"] is True  # the Prefect flow and the plain loop agree


def load_build_llm():
    spec = importlib.util.spec_from_file_location("build_llm_bench", PROJECT_ROOT / "benchmarks" / "build_llm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_benchmarks_build_is_refused_while_another_process_builds_its_run(tmp_path):
    """Its Prefect build is `flows.build.build`, with the run's lock as `leakless build` takes it: a run
    another process holds is refused at once, not built a second time beside it."""
    bench = load_build_llm()
    server, base_url = bench.start_server(0.005)
    spec = {"folder": str(tmp_path), "size": 1, "base_url": base_url, "in_flight": 8, "mode": "prefect",
            "run_id": "busy"}
    try:
        with run_lock.held(RunDir(tmp_path / "runs", "busy")):
            done = subprocess.run(bench.child_command(spec), cwd=PROJECT_ROOT, env=bench.child_env(),
                                  capture_output=True, text=True, timeout=600)
    finally:
        server.terminate()
        server.join()
    assert done.returncode != 0, done.stdout[-2000:]
    assert "run busy is being built by another process" in done.stderr, done.stderr[-3000:]
    assert not (tmp_path / "runs" / "busy" / "data").exists()
