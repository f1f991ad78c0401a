"""A loopback OpenAI-compatible server with scripted answers, for tests, benchmarks and dry runs.

It speaks `/v1/chat/completions` and `/v1/models`. It recognises the role from
the JSON-schema name in `response_format` (or, for the prompt-schema fallback,
the schema title written into the system prompt), reads the inputs from the
`<tag>value</tag>` lines the role templates write, and answers with a valid
role output computed from them (`scripted_answers.answer_for`). A request with no schema at all is
a model under test being asked a benchmark pair (`leakless evaluate`): a scripted
model chosen by the model id answers it (`scripted_answers.model_answer`), and the scripted judge
labels the answer (`scripted_answers.judge_answer`). Latency
and faults (429, 500, timeout, malformed JSON, refusal, a slow GET /models) are injectable, and it
counts what it received (`openai_server_state`: the fault plan and the counts), so tests can assert
that a cached rerun sent nothing. Its GET /v1/models reply carries SCRIPTED_SERVER_HEADER: the
client serves the answers it cached from this server to this server only (`pipeline.llm.cache`).

It also copies what a real small model behind llama.cpp's server does
(`ANSWER_FAULTS`: empty answers, off-schema JSON, JSON cut off at max_tokens with
finish_reason "length"), and with `rejects_json_schema` it refuses OpenAI's
`json_schema` response_format with HTTP 500 as llama.cpp does, while honouring
`{"type": "json_object", "schema": ...}`, and like llama.cpp's chatml template it
reads no text from a message that carries an image part.

Its answers are scripted, not a model's: use it to exercise the plumbing only.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import socket
import threading
import time
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request, Response

from pipeline.llm.cache import SCRIPTED_MODEL_PREFIX, SCRIPTED_SERVER_HEADER
from pipeline.llm.config import LLMSettings
from pipeline.llm.roles import ROLES, RoleOutput
from pipeline.testing.openai_server_state import ANSWER_FAULTS, FaultPlan, InFlightCounter, ServerState
from pipeline.testing.provider_quirks import PROVIDER_QUIRKS, error_response, llama_cpp_rejection
from pipeline.testing.scripted_answers import REFUSAL_TEXT, answer_for, model_answer

FAKE_KEY_ENV = "LEAKLESS_FAKE_LLM_KEY"
TAG = re.compile(r"<(\w+)>(.*?)</\1>", re.DOTALL)
SCHEMA_TITLE = re.compile(r'"title": "(\w+Output)", "type": "object"')
ROLE_OF_TITLE = {role.output_type.__name__: name for name, role in ROLES.items()}


def create_app(state: ServerState) -> FastAPI:
    app = FastAPI(title="leakless fake OpenAI server")
    app.add_middleware(InFlightCounter, state=state)

    @app.get("/v1/models", response_model=None)
    async def models(request: Request) -> Response:
        # it answers any model name (as scripted-fake:<name>), so it lists none for a client to check
        # unless a test names some (`served`)
        await asyncio.sleep(state.models_delay_s)
        listing = {"object": "list", "data": [{"id": model, "object": "model"} for model in state.served]}
        reply = wrong_key(request, state) or Response(json.dumps(listing), media_type="application/json")
        # the client serves the answers it cached from this server to this server only
        reply.headers[SCRIPTED_SERVER_HEADER] = "leakless fake-llm"
        return reply

    @app.get("/_stats")
    async def stats() -> dict:
        return {"requests": dict(state.requests), "faults": dict(state.faults_sent),
                "cpu_s": time.process_time(),  # lets a benchmark work out the server's own cost
                "in_flight": state.in_flight, "peak_in_flight": state.peak_in_flight,
                "in_flight_s": state.in_flight_s,
                "connections": len(state.client_addresses)}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        """Answered `latency_s` after it arrived: the answer is made first and the sleep takes
        what is left, so the server's own work does not add to the latency it stands in for."""
        arrived = time.monotonic()
        if (refused := wrong_key(request, state)) is not None:
            return refused
        body = json.loads(await request.body())
        if state.rejects_json_schema and (rejection := llama_cpp_rejection(body)) is not None:
            return rejection
        role = role_of(body)
        if role not in ROLES:
            return error_response(400, "no role schema in response_format or the system prompt")
        state.requests[role] += 1
        fault = state.next_fault()
        if fault == "off_schema" and role == "answerer":
            fault = None  # plain chat has no schema to leave: dealt, but neither sent nor counted
        state.arrivals.append((time.monotonic(), role, fault))
        if fault:
            state.faults_sent[fault] += 1
        if image_of(body):
            state.with_image[role] += 1
        response = answer_to(body, role, fault, state)
        if state.quirk is not None:
            response = PROVIDER_QUIRKS[state.quirk](body, response)
        delay = state.faults.hang_s if fault == "timeout" else state.latency_s
        await asyncio.sleep(max(0.0, delay - (time.monotonic() - arrived)))
        return response

    return app


def wrong_key(request: Request, state: ServerState) -> Response | None:
    if state.api_key is None or request.headers.get("authorization") == f"Bearer {state.api_key}":
        return None
    return error_response(401, "Invalid API key")


def answer_to(body: dict, role: str, fault: str | None, state: ServerState) -> Response:
    """The response, faults included."""
    if fault == "429":
        return error_response(429, "rate limited", {"retry-after": str(state.faults.retry_after_s)})
    if fault == "500":
        return error_response(500, "internal error")
    structured = "response_format" in body
    if role == "answerer" and fault not in ("refusal", "malformed"):  # plain chat: off_schema has no schema to leave
        text = model_answer(body["model"], user_text(body), image_of(body) is not None)
        if fault == "truncated":
            return completion_response(body, {"content": text[: len(text) // 2], "refusal": None}, "length")
        message = {"content": "" if fault == "empty" else text, "refusal": None}
    elif fault == "refusal" or body["model"] in state.refusing_models:
        message = ({"content": None, "refusal": REFUSAL_TEXT} if structured
                   else {"content": REFUSAL_TEXT, "refusal": None})
    elif fault == "malformed":
        message = {"content": '{"' + role + '": [', "refusal": None}
    elif fault in ANSWER_FAULTS:
        answer = answer_for(role, dict(TAG.findall(user_text(body, state))), image_of(body))
        return completion_response(body, *faulty_answer(fault, answer, role))
    else:
        fields = dict(TAG.findall(user_text(body, state)))
        answer = answer_for(role, fields, image_of(body)).model_dump_json()
        if not structured:  # like many chat models asked for JSON in the prompt
            answer = f"Here is the JSON:\n```json\n{answer}\n```"
        message = {"content": answer, "refusal": None}
    return completion_response(body, message)


def role_of(body: dict) -> str:
    """The role whose schema the request carries; a request with no schema at all is a plain
    chat question, which is what a model under test gets (`answerer`)."""
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        return response_format["json_schema"]["name"]
    if response_format.get("type") == "json_object" and "schema" in response_format:
        return ROLE_OF_TITLE.get(response_format["schema"].get("title"), "unknown")
    first = body["messages"][0]
    if first["role"] != "system":
        return "answerer"
    found = SCHEMA_TITLE.search(first["content"])
    return ROLE_OF_TITLE[found.group(1)] if found else "unknown"


def user_text(body: dict, state: ServerState | None = None) -> str:
    texts = []
    for message in body["messages"]:
        content = message["content"]
        if message["role"] != "user":
            continue
        if isinstance(content, str):
            texts.append(content)
        elif state is not None and state.rejects_json_schema:
            continue  # llama.cpp's chatml template turns a message with parts into no text
        else:
            texts += [part["text"] for part in content if part["type"] == "text"]
    return "\n".join(texts)


def image_of(body: dict) -> str | None:
    for message in body["messages"]:
        if isinstance(message["content"], list):
            for part in message["content"]:
                if part["type"] == "image_url":
                    return part["image_url"]["url"]
    return None


def faulty_answer(kind: str, answer: RoleOutput, role: str) -> tuple[dict, str]:
    """The message and finish_reason of one of ANSWER_FAULTS, made from the valid answer."""
    text = answer.model_dump_json()
    if kind == "empty":
        return {"content": "", "refusal": None}, "stop"
    if kind == "off_schema":  # valid JSON, wrong keys: what an unconstrained small model writes
        return {"content": json.dumps({"role": role, "answer": "I think this is fine."}),
                "refusal": None}, "stop"
    return {"content": text[: len(text) // 2], "refusal": None}, "length"  # "truncated"


def completion_response(body: dict, message: dict, finish_reason: str = "stop") -> Response:
    prompt_tokens = len(json.dumps(body["messages"])) // 4
    completion_tokens = len(message["content"] or message["refusal"] or "") // 4
    payload = {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
        "model": f"{SCRIPTED_MODEL_PREFIX}{body['model']}",  # records then say no model wrote it
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": {"role": "assistant", **message}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }
    return Response(json.dumps(payload), media_type="application/json")


class FakeOpenAIServer:
    """Runs the app on 127.0.0.1 (a free port by default) in a background thread.

    with FakeOpenAIServer(latency_s=0.01) as server:
        settings = ... base_url=server.base_url ...
        server.state.requests  # what arrived, per role
    """

    def __init__(self, latency_s: float = 0.0, faults: FaultPlan | None = None,
                 refusing_models: frozenset[str] = frozenset(), port: int = 0,
                 rejects_json_schema: bool = False, api_key: str | None = None, quirk: str | None = None,
                 served: tuple[str, ...] = (), models_delay_s: float = 0.0):
        self.state = ServerState(latency_s=latency_s, faults=faults or FaultPlan(),
                                 refusing_models=frozenset(refusing_models),
                                 rejects_json_schema=rejects_json_schema, api_key=api_key, quirk=quirk,
                                 served=tuple(served), models_delay_s=models_delay_s)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(create_app(self.state), log_level="warning", access_log=False,
                                timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="fake-openai-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def llm_settings(self, cache_path: Path | None = None, roles: dict | None = None,
                     **endpoint: object) -> LLMSettings:
        """Every role on this server; the key is read from FAKE_KEY_ENV, which callers set."""
        return LLMSettings.model_validate({
            "endpoints": {"default": {"base_url": self.base_url, "api_key_env": FAKE_KEY_ENV,
                                      **endpoint}},
            "roles": roles or {}, "cache": cache_path is not None, "cache_path": cache_path})

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


def serve(port: int, latency_s: float = 0.0, faults: FaultPlan | None = None,
          host: str = "127.0.0.1", rejects_json_schema: bool = False) -> None:
    """Serve in the foreground until interrupted (the CLI and benchmark subprocesses)."""
    state = ServerState(latency_s=latency_s, faults=faults or FaultPlan(),
                        rejects_json_schema=rejects_json_schema)
    app = create_app(state)
    # Its full collections scanned FastAPI's and pydantic's objects every few seconds and held
    # every request out 60-90 ms past its latency (build_llm.py's 2,014 seeds: p99 191 ms for
    # a 100 ms latency, 116 ms with them frozen).
    gc.collect()
    gc.freeze()
    # a stop waits 1 s for requests still out, not for a "timeout" fault's whole hang
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=1)
