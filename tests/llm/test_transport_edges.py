"""The wire's edges: an in-body error whose code is no HTTP status stands for a 502 (retried), a reply
holding an answer beside an error object is the answer, and the /models probe gives up after its own
short wait whatever the request timeout."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestServer

import pipeline.llm.transport as transport
from pipeline.llm.transport import ChatTransport, ServerError

ANSWER = {"model": "m", "choices": [{"message": {"content": "hello"}, "finish_reason": "stop"}]}
REPLIES = {
    "code-not-http": {"error": {"code": 1, "message": "upstream failed"}},
    "code-text": {"error": {"code": "overloaded", "message": "try later"}},
    "code-429": {"error": {"code": 429, "message": "slow down"}},
    "answer-and-error": ANSWER | {"error": {"code": 502, "message": "a retry upstream"}},
}


async def chat(request: web.Request) -> web.Response:
    return web.json_response(REPLIES[(await request.json())["model"]])


EVENTS: list[str] = []  # what the probe test saw happen, in order


async def slow_models(request: web.Request) -> web.Response:
    EVENTS.append("models asked")
    await asyncio.sleep(2)  # on the probe's own event loop: its 0.3 s deadline comes first, however loaded
    EVENTS.append("models answered")
    return web.json_response({"data": []})


def served(use, timeout_s: float = 30.0):
    async def main():
        app = web.Application()
        app.router.add_post("/v1/chat/completions", chat)
        app.router.add_get("/v1/models", slow_models)
        async with TestServer(app, host="127.0.0.1") as server:
            async with ChatTransport(str(server.make_url("/v1")), "sk-x", timeout_s) as wire:
                return await use(wire)
    return asyncio.run(main())


def error_of(model: str) -> ServerError:
    try:
        served(lambda wire: wire.create({"model": model, "messages": []}))
    except ServerError as error:
        return error
    raise AssertionError("no ServerError")


def test_an_in_body_error_code_that_is_no_http_status_stands_for_a_502():
    assert (error_of("code-not-http").status, error_of("code-not-http").message) == (502, "upstream failed")
    assert error_of("code-text").status == 502
    assert error_of("code-429").status == 429  # a real status is kept: its retry waits as a 429's


def test_a_reply_with_choices_beside_an_error_object_is_the_answer():
    completion = served(lambda wire: wire.create({"model": "answer-and-error", "messages": []}))
    assert completion.content == "hello"


def test_the_models_probe_gives_up_after_its_own_short_wait(monkeypatch):
    """With the request timeout (30 s) the probe would wait out the 2 s reply and return its headers."""
    monkeypatch.setattr(transport, "MODELS_TIMEOUT_S", 0.3)
    EVENTS.clear()

    async def probe(wire):
        headers = await wire.models_reply_headers()
        EVENTS.append("probe gave up" if headers is None else "probe read the reply")
        return headers

    assert served(probe, timeout_s=30.0) is None
    assert EVENTS[:2] == ["models asked", "probe gave up"]
