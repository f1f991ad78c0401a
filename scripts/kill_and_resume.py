"""SIGKILL an offline build at random points, rerun it with the same run id, and check
that every resumed run ends with the same rows as an uninterrupted one.

    .venv/bin/python scripts/kill_and_resume.py --kills 10 --size 4

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def build_command(run_id: str, runs: Path, size: int) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", "build", "--no-progress", "--run-id", run_id,
            "--size", str(size), "--set", f"run.runs_dir={runs}"]


def rows(run_dir: Path) -> pd.DataFrame:
    frame = pd.read_parquet(run_dir / "data").drop(columns=["run_id"])
    frame["image"] = frame["image"].map(lambda image: image["bytes"])
    return frame.sort_values("id").reset_index(drop=True)


def run_to_end(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def kill_after(command: list[str], seconds: float) -> bool:
    """Start the build in its own process group and SIGKILL the whole group; True if it was still running."""
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--size", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    chooser = random.Random(args.seed)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        runs = Path(folder)
        reference_seconds = run_to_end(build_command("reference", runs, args.size))
        reference = rows(runs / "reference")
        for kill in range(args.kills):
            run_id = f"killed-{kill}"
            at = chooser.uniform(1.0, reference_seconds)
            killed = kill_after(build_command(run_id, runs, args.size), at)
            run_to_end(build_command(run_id, runs, args.size))
            same = rows(runs / run_id).equals(reference)
            results.append({"kill_at_s": round(at, 1), "killed_mid_run": killed, "same_rows": same})
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"reference_seconds": round(reference_seconds, 1), "kills": len(results),
                      "killed_mid_run": sum(r["killed_mid_run"] for r in results),
                      "all_same_rows": all(r["same_rows"] for r in results), "runs": results}))


if __name__ == "__main__":
    main()
