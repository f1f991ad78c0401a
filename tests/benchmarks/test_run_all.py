"""`benchmarks/run_all.py` keeps its table when one script runs past the timeout, and leaves nothing running."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipeline.env import PROJECT_ROOT

# A benchmark that starts a helper (as build_llm.py starts its server), records the helper's
# pid, and then never finishes.
HANGS = """
import subprocess, sys
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(sys.argv[0] + ".pid", "w").write(str(helper.pid))
helper.wait()
"""


def load_script():
    spec = importlib.util.spec_from_file_location("run_all_bench", PROJECT_ROOT / "benchmarks" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gone(pid: int, within: float = 10.0) -> bool:
    """The process has exited (a zombie waiting for its reaper counts as exited)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_a_timed_out_script_is_a_failed_row_and_the_rest_is_written(tmp_path):
    hangs, quick = tmp_path / "hangs.py", tmp_path / "quick.py"
    hangs.write_text(HANGS)
    quick.write_text('import json; print(json.dumps({"rate": 2.5}))\n')
    out = tmp_path / "latest.json"

    code = load_script().main([hangs, quick], timeout=3, out=out)

    results = json.loads(out.read_text())["results"]
    assert code == 1
    assert results["hangs"]["ok"] is False and results["hangs"]["error"] == "timed out after 3 s"
    assert results["quick"] == {"ok": True, "seconds": results["quick"]["seconds"], "figures": {"rate": 2.5}}
    helper = int(Path(str(hangs) + ".pid").read_text())
    assert gone(helper), "the timed-out script's helper process is still running"


def test_ctrl_c_on_run_all_stops_the_script_it_runs(tmp_path):
    """Each script runs in its own session (so a timeout can end its group), which also keeps the
    terminal's Ctrl-C from it: run_all passes it on, or the script and its helpers ran on as orphans."""
    hangs = tmp_path / "hangs.py"
    hangs.write_text(HANGS)
    driver = (f"import importlib.util, pathlib; spec = importlib.util.spec_from_file_location('r', "
              f"{str(PROJECT_ROOT / 'benchmarks' / 'run_all.py')!r}); m = importlib.util.module_from_spec(spec); "
              f"spec.loader.exec_module(m); m.run(pathlib.Path({str(hangs)!r}), timeout=600)")
    pid_file = Path(str(hangs) + ".pid")
    # Python's own SIGINT handler, even where this test runs with SIGINT ignored
    run_all = subprocess.Popen([sys.executable, "-c", driver], stderr=subprocess.DEVNULL,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline and run_all.poll() is None, "the benchmark never started"
        time.sleep(0.05)

    os.kill(run_all.pid, signal.SIGINT)  # the terminal's Ctrl-C reaches run_all's group only

    assert run_all.wait(timeout=30) != 0
    assert gone(int(pid_file.read_text())), "the interrupted script's helper process is still running"
