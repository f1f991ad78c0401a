"""Shared fixtures: offline environment, one Prefect harness per session, a small build config.

The folders mirror the source tree (tests/stages, tests/detect, tests/review...); helpers
shared between folders live in tests/support. Tests slower than a few seconds carry
`@pytest.mark.slow`; the quick loop is `pytest -m "not slow"`.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
from pathlib import Path

import pytest

# A Python without the project's dependencies (a bare `pytest` outside .venv) would fail to collect
# nearly every module, one traceback each: say once what to run instead.
_MISSING = [name for name in ("torch", "typer", "pandas", "PIL", "nltk", "emoji", "rapidfuzz", "pipeline")
            if importlib.util.find_spec(name) is None]
if _MISSING:
    pytest.exit(f"{sys.executable} lacks the project's dependencies ({', '.join(_MISSING)}): run `make test` "
                "(it sets up .venv), or .venv/bin/python -m pytest after `make setup`", returncode=4)

# A pytest that a non-interactive shell started in the background (`make test &` in a script) ignores SIGINT,
# and every build it starts inherits that: the tests that press Ctrl-C on a build would see it ignored.
# A Python handler here is reset to the default in each child, which then turns Ctrl-C into its own.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Two cores shared by torch, the Prefect server and test subprocesses: one OpenMP thread each
# avoids the stalls oversubscription causes.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("LEAKLESS_ARTIFACTS", str(Path(__file__).parent.parent / "artifacts" / "test"))

import pipeline  # noqa: E402,F401  (environment defaults before Prefect loads)
from tests.support.ci import needed_but_missing  # noqa: E402

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server for the whole session (about 12 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        needed_but_missing("the shared reference data", "../shared/reference is not here (a user's own clone)")
    return REFERENCE


@pytest.fixture(scope="session")
def public_corpus() -> Path:
    path = REFERENCE.parent / "public_vsil" / "pairs.jsonl"
    if not path.is_file():
        needed_but_missing("the shared public corpus", "../shared/public_vsil is not here (a user's own clone)")
    return path
