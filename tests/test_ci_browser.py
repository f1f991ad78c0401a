"""CI never skips the browser tests silently: under CI=true a missing Chromium fails the run with
one line, in scripts/install_browser.sh and in each browser test module itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MISSING = "/nonexistent/chromium"
BROWSER_TESTS = [str(ROOT / "tests" / "review" / "test_review_browser.py"),
                 str(ROOT / "tests" / "evaluate" / "test_evaluate_browser.py")]


def run_browser_tests(ci: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": ci, "LEAKLESS_CHROMIUM": MISSING}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *BROWSER_TESTS],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_under_ci_a_missing_browser_fails_the_run():
    result = run_browser_tests("true")
    assert result.returncode != 0, result.stdout
    assert result.stdout.count(f"CI needs the browser tests: {MISSING} is not installed") >= len(BROWSER_TESTS)
    assert "skipped" not in result.stdout.splitlines()[-1]
    assert f"{len(BROWSER_TESTS)} errors" in result.stdout.splitlines()[-1], result.stdout


@pytest.mark.slow
def test_off_ci_a_missing_browser_skips_and_says_why():
    result = run_browser_tests("")
    assert result.returncode in (0, 5), result.stdout   # 5: pytest collected nothing to run
    assert f"{MISSING} is not installed (scripts/install_browser.sh)" in result.stdout
    assert f"{len(BROWSER_TESTS)} skipped" in result.stdout.splitlines()[-1]


def test_install_script_fails_under_ci_when_it_cannot_install(tmp_path):
    bin_dir = tmp_path / "bin"   # `id` and `bash` only: no apt-get, no sudo
    bin_dir.mkdir()
    for tool in ("id", "bash"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    script = str(ROOT / "scripts" / "install_browser.sh")

    def install(ci: str) -> subprocess.CompletedProcess:
        env = {"PATH": str(bin_dir), "CI": ci, "LEAKLESS_CHROMIUM": MISSING}
        return subprocess.run(["bash", script], env=env, capture_output=True, text=True, timeout=60)

    failed = install("true")
    assert failed.returncode == 1
    (line,) = [line for line in failed.stderr.splitlines() if line.startswith(("error", "warning"))]
    assert line.startswith("error: ") and f"CI needs {MISSING}" in line
    warned = install("")
    assert warned.returncode == 0 and "warning: " in warned.stderr and "will be skipped" in warned.stderr
