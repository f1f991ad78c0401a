"""Run every benchmark in this folder and print one table of their figures and ratios.

Each benchmark script prints one JSON object on its last line; this collects
them, prints a table, and writes the lot to `benchmarks/latest.json` with the
machine it ran on (copy the figures into benchmarks/README.md when they move).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent


def machine() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}


def run(script: Path, timeout: int) -> dict:
    """One script's figures, or why there are none: a script past `timeout` is a failed row, and
    the rest of the table is still made."""
    started = time.perf_counter()
    # Its own session, so a timeout can end the whole process group: a build benchmark's server
    # and workers would otherwise outlive it (and keep its output pipe open).
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=HERE.parent, start_new_session=True)
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        end_group(child, signal.SIGKILL)
        return {"ok": False, "seconds": time.perf_counter() - started, "error": f"timed out after {timeout} s"}
    except KeyboardInterrupt:
        # Its own session keeps the terminal's Ctrl-C from the script: pass it on, as it would have come.
        end_group(child, signal.SIGINT)
        raise
    seconds = time.perf_counter() - started
    lines = [line for line in stdout.strip().splitlines() if line.strip()]
    try:
        figures = json.loads(lines[-1]) if child.returncode == 0 and lines else None
    except json.JSONDecodeError:
        figures = None
    if figures is None:
        tail = (stderr or stdout).strip().splitlines()[-1:] or ["no output"]
        return {"ok": False, "seconds": seconds, "error": tail[0]}
    return {"ok": True, "seconds": seconds, "figures": figures}


def end_group(child: subprocess.Popen, stop: signal.Signals, grace_s: float = 10.0) -> None:
    """Send `stop` to the script's process group; whatever of it is still there after `grace_s` is killed."""
    try:
        os.killpg(child.pid, stop)
        child.communicate(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
    except ProcessLookupError:  # the group had ended already
        child.communicate()


def flat(figures: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def main(scripts: list[Path] | None = None, timeout: int = 1800, out: Path = HERE / "latest.json") -> int:
    if scripts is None:
        scripts = sorted(path for path in HERE.glob("*.py") if path.name != Path(__file__).name)
    results = {}
    for script in scripts:
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        results[script.stem] = run(script, timeout=timeout)
    table = Table(title="leakless benchmarks")
    for column in ("benchmark", "figure", "value"):
        table.add_column(column)
    for name, result in results.items():
        if not result["ok"]:
            table.add_row(name, "FAILED", result["error"])
            continue
        for key, value in flat(result["figures"]).items():
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            table.add_row(name, key, shown)
    Console().print(table)
    out.write_text(json.dumps({"machine": machine(), "results": results}, indent=2))
    print(json.dumps({name: result["ok"] for name, result in results.items()}))
    return 0 if all(result["ok"] for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
