"""Answers cached from the scripted server (`leakless fake-llm`) are served to that server only: a
real model started later at the same URL, under the same model name, is asked, once per item,
and its answers replace the scripted ones. The real client talks to both over loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi import FastAPI, Request
from tests.support.ci import needed_but_missing

from pipeline.contracts import ItemError
from pipeline.llm.client import LLMClient
from pipeline.llm.roles import VSILJudgeInput
from pipeline.llm.session import Answer
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer, FaultPlan

REAL_MODEL = "SmolLM2-like"  # what the stand-in names as the answering model, as llama.cpp names its alias
JUDGE = [VSILJudgeInput(query=f"Where do I keep card {i}?", image_description="an id card") for i in range(4)]


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "dry-run")


def model_server(seen: Counter) -> FastAPI:
    """Another OpenAI-compatible server: a model's own (valid) verdicts, and a /v1/models listing it."""
    app = FastAPI()

    @app.get("/v1/models")
    async def models() -> dict:
        seen["GET /models"] += 1
        return {"object": "list", "data": [{"id": REAL_MODEL}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> dict:
        seen["POST /chat/completions"] += 1
        verdict = {"leaks": False, "leaked_spans": [], "explanation": "Nothing in the text names the card."}
        await request.body()
        return {"id": "chatcmpl-real", "object": "chat.completion", "created": int(time.time()), "model": REAL_MODEL,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": json.dumps(verdict)}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}

    return app


@contextmanager
def serving_on(app: FastAPI, port: int):
    """The app on 127.0.0.1:`port`, the address the scripted server had."""
    listening = socket.socket()
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the stand-in server did not start"
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listening.close()


def run(settings) -> list[Answer | ItemError]:
    client = LLMClient.from_settings(settings)
    try:
        return client.run_batch("vsil_judge", JUDGE)
    finally:
        client.close()


def test_a_model_server_at_the_dry_runs_url_is_asked_not_served_the_scripted_answers(tmp_path):
    with FakeOpenAIServer() as fake:
        settings = fake.llm_settings(cache_path=tmp_path / "llm.sqlite")
        dry = run(settings)
        again = run(settings)  # the scripted server still there: its answers come back from the cache
        assert fake.state.requests["vsil_judge"] == 4
    assert all(a.provenance.model == "scripted-fake:gpt-4o" for a in dry) and all(a.cached for a in again)

    seen = Counter()
    with serving_on(model_server(seen), fake.port):
        real = run(settings)
        rerun = run(settings)
    assert seen["POST /chat/completions"] == 4  # each item asked once, by the first client only
    assert seen["GET /models"] == 1  # asked once, by the client that met a scripted answer
    assert all(a.provenance.model == REAL_MODEL and not a.cached for a in real)
    assert all(a.provenance.model == REAL_MODEL and a.cached for a in rerun)


def test_a_scripted_refusal_kept_with_cache_failures_is_not_served_to_a_model_server(tmp_path):
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("refusal",))) as fake:
        settings = fake.llm_settings(cache_path=tmp_path / "llm.sqlite").model_copy(update={"cache_failures": True})
        refused = run(settings)
    assert all(isinstance(r, ItemError) and r.refused for r in refused)

    seen = Counter()
    with serving_on(model_server(seen), fake.port):
        real = run(settings)
    assert seen["POST /chat/completions"] == 4
    assert all(isinstance(a, Answer) and a.provenance.model == REAL_MODEL for a in real)


@pytest.mark.slow
def test_llama_cpp_started_at_the_dry_runs_url_answers_itself(tmp_path):
    """The audit's case: a dry run against `leakless fake-llm`, then llama.cpp's server at the same URL
    with the model name the dry run asked for."""
    from pipeline.testing.local_servers import LLM_VENV, SMOLLM2_NAME, llama_cpp_server, missing_install

    if why := missing_install(LLM_VENV, "scripts/setup_llm_server.sh"):
        needed_but_missing("the llama.cpp tests", why)
    roles = {"vsil_judge": {"model": SMOLLM2_NAME, "max_tokens": 200}}
    with FakeOpenAIServer() as fake:
        settings = fake.llm_settings(cache_path=tmp_path / "llm.sqlite", roles=roles, vision=False)
        assert all(a.provenance.model == f"scripted-fake:{SMOLLM2_NAME}" for a in run(settings))
    llama = llama_cpp_server(tmp_path / "llama-server.log")
    llama.port = fake.port  # its own free port replaced by the one the dry run used
    llama.command[llama.command.index("--port") + 1] = str(fake.port)
    with llama:
        answered = run(settings)
    for result in answered:  # the model's own answer, or a failure saying why: nothing scripted
        assert (isinstance(result, Answer) and result.provenance.model == SMOLLM2_NAME and not result.cached
                or isinstance(result, ItemError) and "scripted" not in result.error), result
