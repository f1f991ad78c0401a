"""End-to-end offline build of ~1,000 candidate pairs: `leakless build` against the same
build as a plain loop with no Prefect, each in a fresh process, in the same run.

Orchestration share = (Prefect build wall - plain loop wall) / Prefect build wall,
from the median walls of `--repeats` rounds, each the plain loop first and then the
Prefect build (one run of each swings by a second on a shared 2-core machine). Both walls include interpreter start,
imports and model loading; the Prefect one also its temporary server's start-up.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
PLAIN = """
import atexit, gc, sys
atexit.register(gc.freeze)  # as the CLI does: no final collection at exit
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
    parser.add_argument("--repeats", type=int, default=3, help="rounds of a plain loop then a Prefect build; medians are reported")
    args = parser.parse_args()
    plain_walls, prefect_walls, flow_walls = [], [], []
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory() as runs:
            overrides = [f"run.size={args.size}", f"run.runs_dir={runs}"]
            plain_walls.append(timed([sys.executable, "-c", PLAIN, *overrides])[0])
            command = [sys.executable, "-m", "pipeline.cli", "build", "--no-progress", "--run-id", "bench"]
            for override in overrides:
                command += ["--set", override]
            prefect_wall, out = timed(command)
            prefect_walls.append(prefect_wall)
            flow_walls.append(float(re.search(r"in ([\d.]+) s wall", out).group(1)))
            manifest = json.loads((Path(runs) / "bench" / "manifest.json").read_text())
            decisions = pd.read_parquet(Path(runs) / "bench" / "decisions.parquet")
            candidates = int((decisions["stage"] == "leak_filter").sum())
    prefect_wall, plain_wall = statistics.median(prefect_walls), statistics.median(plain_walls)
    print(json.dumps({
        "candidate_pairs": candidates, "accepted_pairs": manifest["rows"], "repeats": args.repeats,
        "prefect_build_wall_s": round(prefect_wall, 2), "flow_wall_s": round(statistics.median(flow_walls), 2),
        "plain_loop_wall_s": round(plain_wall, 2),
        "prefect_build_walls_s": [round(w, 2) for w in prefect_walls],
        "plain_loop_walls_s": [round(w, 2) for w in plain_walls],
        "orchestration_share": round(max(0.0, prefect_wall - plain_wall) / prefect_wall, 3),
        "target_wall_s": 60, "target_orchestration_share": 0.15,
    }))


if __name__ == "__main__":
    main()
