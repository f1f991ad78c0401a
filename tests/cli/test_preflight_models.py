"""A role's model is checked against what its endpoint lists before any work starts: llama.cpp's server
answers any model name and echoes it back, so a typo would be stamped on every record as the model."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.cli.preflight import check_llm_ready
from pipeline.config import load_config


KEY = "k"


class _Models(BaseHTTPRequestHandler):
    """A server that serves one model under /v1 and checks its key, and under /bare/v1 and
    /scoped/v1 a chat API whose GET /models is missing (404) or off-limits to the key (403);
    nothing else is there."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path in ("/bare/v1/models", "/scoped/v1/models"):
            self.answer(404 if self.path.startswith("/bare") else 403, {"error": {"message": "no"}})
        elif self.path != "/v1/models":
            self.answer(404, {"detail": "Not Found"})
        elif self.headers["Authorization"] != f"Bearer {KEY}":
            self.answer(401, {"error": {"message": "Invalid API key"}})
        else:
            self.answer(200, {"object": "list", "data": [{"id": "SmolLM2-135M-Instruct-Q4_1"}]})

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path not in ("/v1/chat/completions", "/bare/v1/chat/completions", "/scoped/v1/chat/completions"):
            self.answer(404, {"detail": "Not Found"})
        elif self.headers["Authorization"] != f"Bearer {KEY}":
            self.answer(401, {"error": {"message": "Invalid API key"}})
        else:  # the preflight's empty body
            self.answer(422, {"detail": "messages: field required"})

    def answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status), self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data))), self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Models)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown(), server.server_close()


def settings(base_url: str, model: str, tmp_path):
    return load_config(None, ["backends.rewriter='llm'", f"llm.endpoints.default.base_url='{base_url}'",
                              "llm.endpoints.default.api_key_env='LEAKLESS_TEST_KEY'",
                              f"llm.roles.leak_rewriter.model='{model}'", f"llm.cache_path='{tmp_path / 'c.sqlite'}'"])


def test_a_model_the_endpoint_does_not_list_is_refused(url, tmp_path, monkeypatch):
    monkeypatch.setenv("LEAKLESS_TEST_KEY", KEY)
    with pytest.raises(ValueError, match="serves SmolLM2-135M-Instruct-Q4_1, not 'gpt-4o', which the "
                                         "leak_rewriter role asks for"):
        check_llm_ready(settings(url, "gpt-4o", tmp_path))
    check_llm_ready(settings(url, "SmolLM2-135M-Instruct-Q4_1", tmp_path))  # listed: fine


def test_a_server_that_is_down_is_refused_before_any_work(tmp_path, monkeypatch):
    """It was skipped, and the build then spent minutes retrying every seed to exit 0 with no pair."""
    monkeypatch.setenv("LEAKLESS_TEST_KEY", KEY)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    with pytest.raises(ValueError, match=rf"LLM endpoint 'default' \({url}\) cannot be reached \(.*refused.*\); "
                                         r"is its server running\?"):
        check_llm_ready(settings(url, "gpt-4o", tmp_path))


def test_a_key_the_server_refuses_is_named_before_any_work(url, tmp_path, monkeypatch):
    """A wrong key had every seed fail with HTTP 401 and the build exit 0."""
    monkeypatch.setenv("LEAKLESS_TEST_KEY", "wrong")
    with pytest.raises(ValueError) as refused:
        check_llm_ready(settings(url, "SmolLM2-135M-Instruct-Q4_1", tmp_path))
    assert str(refused.value) == (f"LLM endpoint 'default' ({url}) refuses the API key in LEAKLESS_TEST_KEY "
                                  f"(GET /models said 401, POST /chat/completions 401: Invalid API key); "
                                  f"set LEAKLESS_TEST_KEY to a key it accepts")


def test_a_url_with_no_api_behind_it_is_refused(url, tmp_path, monkeypatch):
    monkeypatch.setenv("LEAKLESS_TEST_KEY", KEY)
    base = url.removesuffix("/v1")
    with pytest.raises(ValueError, match=rf"\({base}\): no OpenAI-compatible API there \(GET /models said 404, "
                                         r"POST /chat/completions 404\); does base_url end in /v1\?"):
        check_llm_ready(settings(base, "gpt-4o", tmp_path))


@pytest.mark.parametrize("prefix", ["bare", "scoped"])
def test_a_chat_api_whose_models_list_is_missing_or_off_limits_is_not_judged(url, prefix, tmp_path, monkeypatch):
    monkeypatch.setenv("LEAKLESS_TEST_KEY", KEY)
    check_llm_ready(settings(url.replace("/v1", f"/{prefix}/v1"), "gpt-4o", tmp_path))


def test_leakless_build_stops_at_a_refused_key_with_one_line_and_exit_2(url, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli.app import app

    monkeypatch.setenv("LEAKLESS_TEST_KEY", "wrong")
    sets = ["backends.rewriter='llm'", f"llm.endpoints.default.base_url='{url}'",
            "llm.endpoints.default.api_key_env='LEAKLESS_TEST_KEY'", f"llm.cache_path='{tmp_path / 'c.sqlite'}'",
            f"run.runs_dir='{tmp_path / 'runs'}'"]
    result = CliRunner().invoke(app, ["build", *[arg for s in sets for arg in ("--set", s)]])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"error: LLM endpoint 'default' ({url}) refuses the API key in LEAKLESS_TEST_KEY (GET /models said 401, "
        f"POST /chat/completions 401: Invalid API key); set LEAKLESS_TEST_KEY to a key it accepts"]
    assert not (tmp_path / "runs").exists()


def test_the_release_checks_its_pair_checker_model_before_any_work(url, tmp_path, monkeypatch):
    """`leakless release --config` with an LLM pair checker recorded a model the server never ran."""
    from typer.testing import CliRunner

    from pipeline.cli.app import app
    from tests.support.release_runs import accepted_run

    monkeypatch.setenv("LEAKLESS_TEST_KEY", KEY)
    config = tmp_path / "checker.toml"
    config.write_text(f"[backends]\npair_checker = 'llm'\n[llm]\ncache_path = '{tmp_path / 'c.sqlite'}'\n"
                      f"[llm.endpoints.default]\nbase_url = '{url}'\napi_key_env = 'LEAKLESS_TEST_KEY'\n"
                      "[llm.roles.pair_checker]\nmodel = 'nope-model'\n", encoding="utf-8")
    accepted_run(tmp_path / "runs", "r1", 2)
    result = CliRunner().invoke(app, ["release", "r1", "--name", "checked", "--runs-dir", str(tmp_path / "runs"),
                                      "--releases-dir", str(tmp_path / "releases"), "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "not 'nope-model', which the pair_checker role asks for" in result.output
    assert not (tmp_path / "releases").exists()
