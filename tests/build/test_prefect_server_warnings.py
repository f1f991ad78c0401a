"""Under PYTHONWARNINGS=error (CI runs, `-X dev`) a command that used the temporary Prefect server
ends without "Exception ignored" ResourceWarnings: its log file is closed and its process reaped,
while the command still does not wait for the server's own shutdown before it returns."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow  # a real server starts

USE_THE_SERVER = """
import time
from pipeline.prefect_server import prefect_api
with prefect_api() as server:
    server.wait_until_ready()
    started = time.monotonic()
print(server.process.pid, round(time.monotonic() - started, 2))
"""


def test_a_command_with_a_temporary_server_ends_without_resource_warnings(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    done = subprocess.run([sys.executable, "-c", USE_THE_SERVER], cwd=ROOT, capture_output=True, text=True,
                          env={**env, "PREFECT_HOME": str(tmp_path), "PYTHONWARNINGS": "error"}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Exception ignored" not in done.stderr and "ResourceWarning" not in done.stderr, done.stderr
    pid, stopping_s = done.stdout.split()
    assert float(stopping_s) < 1.0  # the stop itself does not wait for the server (its shutdown takes seconds)
    assert not os.path.exists(f"/proc/{pid}")  # reaped, not a zombie, once the command ended
