"""The LLM build benchmark still runs: its children call the build as the flow does."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline.env import PROJECT_ROOT


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
