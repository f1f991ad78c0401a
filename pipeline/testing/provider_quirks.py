"""How real OpenAI-compatible servers answer unlike OpenAI's chat models, for the loopback server
(`openai_server.FakeOpenAIServer(quirk=...)`, `rejects_json_schema`): what the client must read as
they mean it."""

from __future__ import annotations

import json

from fastapi import Response


def llama_cpp_rejection(body: dict) -> Response | None:
    """llama-cpp-python's server validates response_format.type against text/json_object and
    reports the validation error as HTTP 500, not 400."""
    kind = (body.get("response_format") or {}).get("type")
    if kind in (None, "text", "json_object"):
        return None
    return error_response(500, f"1 validation error for CreateChatCompletionRequest\n"
                               f"response_format.type\n  Input should be 'text' or 'json_object' "
                               f"[type=literal_error, input_value='{kind}', input_type=str]")


def with_payload(response: Response, change) -> Response:
    """The reply with `change(payload)` applied to its JSON (error replies pass unchanged)."""
    if response.status_code != 200:
        return response
    payload = json.loads(response.body)
    change(payload)
    return Response(json.dumps(payload), media_type="application/json")


def content_chunks(payload: dict) -> None:
    """Mistral's magistral: the content is a list of chunks, the reasoning in a "thinking" one."""
    message = payload["choices"][0]["message"]
    message["content"] = [{"type": "thinking", "thinking": [{"type": "text", "text": 'Maybe {"a": 1'}]},
                          {"type": "text", "text": message["content"] or ""}]


def inline_think(payload: dict) -> None:
    """DeepSeek-R1 / Qwen3 served without a reasoning parser: the reasoning leads the content."""
    message = payload["choices"][0]["message"]
    message["content"] = ('<think>\nThe user wants a JSON object like {"key": value}. I\'m sorry '
                          'to take so long.\n</think>\n\n' + (message["content"] or ""))


def ends_with(finish_reason: str, payload: dict) -> None:
    """A choice the provider stopped (OpenRouter's "error", Azure's "content_filter"), its content gone."""
    payload["choices"][0].update(finish_reason=finish_reason, message={"role": "assistant", "content": None})


def reasoning_model(body: dict, response: Response) -> Response:
    """OpenAI's o-series and gpt-5: `max_tokens` and any temperature but 1 are refused."""
    if "max_tokens" in body:
        return error_response(400, "Unsupported parameter: 'max_tokens' is not supported with this model. "
                                   "Use 'max_completion_tokens' instead.")
    if body.get("temperature", 1) != 1:
        return error_response(400, "Unsupported value: 'temperature' does not support 0 with this model. "
                                   "Only the default (1) value is supported.")
    return response


# FakeOpenAIServer(quirk=NAME) answers as that provider does.
PROVIDER_QUIRKS = {
    "content_list": lambda body, response: with_payload(response, content_chunks),
    "think": lambda body, response: with_payload(response, inline_think),
    "error_200": lambda body, response: Response(json.dumps(  # OpenRouter: an upstream failure after a 200
        {"error": {"code": 502, "message": "upstream provider returned an error"}}), media_type="application/json"),
    "finish_error": lambda body, response: with_payload(response, lambda p: ends_with("error", p)),
    "content_filter": lambda body, response: with_payload(response, lambda p: ends_with("content_filter", p)),
    "reasoning_model": reasoning_model,
    "bad_shape": lambda body, response: with_payload(response, lambda p: p.update(choices={"0": p["choices"][0]})),
}


def error_response(status: int, text: str, headers: dict | None = None) -> Response:
    return Response(json.dumps({"error": {"message": text, "type": "fake_error"}}), status_code=status,
                    media_type="application/json", headers=headers)
