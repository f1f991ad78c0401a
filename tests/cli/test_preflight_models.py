"""A role's model is checked against what its endpoint lists before any work starts: llama.cpp's server
answers any model name and echoes it back, so a typo would be stamped on every record as the model."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.cli.preflight import check_llm_ready
from pipeline.config import load_config


class _Models(BaseHTTPRequestHandler):
    """GET /v1/models of a server that serves one model."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path != "/v1/models":
            self.send_response(404), self.end_headers()
            return
        body = json.dumps({"object": "list", "data": [{"id": "SmolLM2-135M-Instruct-Q4_1"}]}).encode()
        self.send_response(200), self.send_header("Content-Type", "application/json"), self.end_headers()
        self.wfile.write(body)

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
    monkeypatch.setenv("LEAKLESS_TEST_KEY", "k")
    with pytest.raises(ValueError, match="serves SmolLM2-135M-Instruct-Q4_1, not 'gpt-4o', which the "
                                         "leak_rewriter role asks for"):
        check_llm_ready(settings(url, "gpt-4o", tmp_path))
    check_llm_ready(settings(url, "SmolLM2-135M-Instruct-Q4_1", tmp_path))  # listed: fine


def test_an_endpoint_that_cannot_be_asked_is_not_judged(tmp_path, monkeypatch):
    monkeypatch.setenv("LEAKLESS_TEST_KEY", "k")
    check_llm_ready(settings("http://127.0.0.1:9/v1", "gpt-4o", tmp_path))  # nothing listens on port 9
