"""The wire, against a real aiohttp server that answers badly in the ways real servers do."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from pipeline.llm.transport import (ChatTransport, ConnectionFailure, MalformedReply, RequestTimeout, ServerError,
                                    env_proxy, error_message)

COMPLETION = {"model": "served-snapshot", "choices": [{"message": {"content": "hello", "refusal": None},
                                                       "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 7, "completion_tokens": 2}}


SHAPES = {  # replies in no completion's shape, as some servers and proxies send them
    "choices-dict": {"choices": {"0": {}}},
    "message-text": {"choices": [{"message": "hi"}]},
    "content-number": {"choices": [{"message": {"content": 42}}]},
    "usage-text": COMPLETION | {"usage": {"prompt_tokens": "n/a", "completion_tokens": None}},
}


async def reply(request: web.Request) -> web.Response:
    seen = await request.json()
    how = seen["model"]
    if request.headers.get("Authorization") != "Bearer sk-secret":
        return web.json_response({"error": {"message": "bad key"}}, status=401)
    if how == "ok":
        return web.json_response(COMPLETION | {"echo": seen["messages"][0]["content"]})
    if how == "openai-error":
        return web.json_response({"error": {"message": "response_format json_schema is not supported",
                                            "type": "invalid_request_error"}}, status=400)
    if how == "html-503":
        return web.Response(text="<html>" + "x" * 5000 + "</html>", status=503, headers={"Retry-After": "7"})
    if how == "not-json":
        return web.Response(text="upstream says hi", status=200)
    if how == "no-choices":
        return web.json_response({"model": "m", "choices": []})
    if how in SHAPES:
        return web.json_response(SHAPES[how])
    if how == "slow":
        await asyncio.sleep(2)
    return web.json_response(COMPLETION)


def ask(model: str, timeout_s: float = 5.0, key: str = "sk-secret", base_url: str | None = None):
    async def main():
        app = web.Application()
        app.router.add_post("/v1/chat/completions", reply)
        async with TestServer(app, host="127.0.0.1") as server:
            url = base_url or str(server.make_url("/v1/"))  # the trailing slash must not matter
            async with ChatTransport(url, key, timeout_s) as transport:
                return await transport.create({"model": model, "messages": [{"role": "user", "content": "é ✓"}]})
    return asyncio.run(main())


def test_a_completion_is_read_with_usage_and_the_served_model():
    completion = ask("ok")
    assert (completion.content, completion.model, completion.finish_reason) == ("hello", "served-snapshot", "stop")
    assert (completion.prompt_tokens, completion.completion_tokens, completion.has_choices) == (7, 2, True)


def test_an_openai_style_error_keeps_the_servers_reason_and_status():
    with pytest.raises(ServerError) as caught:
        ask("openai-error")
    assert caught.value.status == 400
    assert str(caught.value) == "HTTP 400: response_format json_schema is not supported"


def test_an_html_error_page_is_cut_short_and_its_headers_kept():
    with pytest.raises(ServerError) as caught:
        ask("html-503")
    assert caught.value.status == 503 and len(caught.value.message) == 500
    assert caught.value.headers["retry-after"] == "7"  # the server wrote Retry-After


def test_a_reply_that_is_not_json_is_a_connection_failure_not_a_crash():
    with pytest.raises(ConnectionFailure, match="not JSON"):
        ask("not-json")


@pytest.mark.parametrize("shape, why", [("choices-dict", "'choices' is not a list of objects"),
                                        ("message-text", "the choice's 'message' is not an object"),
                                        ("content-number", "the message's content is not text (int)")])
def test_a_reply_in_no_completions_shape_is_a_malformed_reply_not_a_crash(shape, why):
    with pytest.raises(MalformedReply) as caught:
        ask(shape)
    assert str(caught.value) == f"malformed reply: {why}"


def test_usage_that_is_no_count_reads_as_none():
    completion = ask("usage-text")
    assert (completion.content, completion.prompt_tokens, completion.completion_tokens) == ("hello", 0, 0)


def test_no_choices_is_reported_as_such():
    assert not ask("no-choices").has_choices


def test_the_key_travels_as_a_bearer_header():
    with pytest.raises(ServerError, match="HTTP 401: bad key"):
        ask("ok", key="wrong")


def test_a_slow_server_times_out():
    with pytest.raises(RequestTimeout, match="timeout: no answer within 0.5 s"):
        ask("slow", timeout_s=0.5)


def test_a_closed_port_is_a_connection_failure():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionFailure, match="connection error"):
        ask("ok", base_url=f"http://127.0.0.1:{port}/v1")


@pytest.mark.parametrize("text, message", [
    ('{"error": {"message": "quota"}}', "quota"),
    ('{"error": "model not found"}', "model not found"),
    ('{"detail": "nope"}', '{"detail": "nope"}'),
    ("plain words", "plain words"),
])
def test_error_message_reads_the_shapes_servers_use(text, message):
    assert error_message(text) == message


def test_the_proxy_variables_are_honoured_and_no_proxy_exempts(monkeypatch):
    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1,.corp.example")
    assert env_proxy("https://api.openai.com/v1/chat/completions") == "http://proxy.internal:3128"
    assert env_proxy("https://llm.corp.example/v1/chat/completions") is None
    assert env_proxy("http://127.0.0.1:8000/v1/chat/completions") is None
    assert env_proxy("http://vllm.lab:8000/v1/chat/completions") is None  # no HTTP_PROXY set
