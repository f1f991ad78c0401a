"""End-to-end offline build of ~1,000 candidate pairs: `leakless build` against the same
build as a plain loop with no Prefect, each in a fresh process, in the same run.

Orchestration share = (Prefect build wall - plain loop wall) / Prefect build wall.
Both walls include interpreter start, imports and model loading; the Prefect one
also its temporary server's start-up.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
PLAIN = """
import sys
from pipeline.config import load_config
from pipeline.build import build_without_orchestration
config = load_config(None, sys.argv[1:])
build_without_orchestration(config, "plain")
"""


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=18, help="elements per sub-category (18 -> 1,026 pairs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs:
        overrides = [f"run.size={args.size}", f"run.runs_dir={runs}"]
        plain_wall, _ = timed([sys.executable, "-c", PLAIN, *overrides])
        command = [sys.executable, "-m", "pipeline.cli", "build", "--no-progress", "--run-id", "bench"]
        for override in overrides:
            command += ["--set", override]
        prefect_wall, out = timed(command)
        manifest = json.loads((Path(runs) / "bench" / "manifest.json").read_text())
        decisions = pd.read_parquet(Path(runs) / "bench" / "decisions.parquet")
        candidates = int((decisions["stage"] == "leak_filter").sum())
        flow_wall = float(re.search(r"in ([\d.]+) s wall", out).group(1))
    print(json.dumps({
        "candidate_pairs": candidates, "accepted_pairs": manifest["rows"],
        "prefect_build_wall_s": round(prefect_wall, 2), "flow_wall_s": flow_wall,
        "plain_loop_wall_s": round(plain_wall, 2),
        "orchestration_share": round(max(0.0, prefect_wall - plain_wall) / prefect_wall, 3),
        "target_wall_s": 60, "target_orchestration_share": 0.15,
    }))


if __name__ == "__main__":
    main()
