"""The wire: OpenAI's chat-completions protocol as plain JSON over one aiohttp session.

Every OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp) takes the same
`POST {base_url}/chat/completions` with a bearer key and answers the same JSON. The
openai SDK wraps that call in request transforms and response models that cost about
1.5-2.4 ms of client CPU a request against 0.3 ms for this session (measured here, 2,000
requests at 64 in flight); at the in-flight counts a build runs, the SDK alone needed
more than the one core a Python process has. Retries and limits stay in `pipeline.llm.sending`,
validation in `pipeline.llm.session`; this module only sends one request and says how it failed.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

import aiohttp
import orjson

MAX_ERROR_TEXT = 500  # an HTML error page would otherwise fill the run's records
MODELS_TIMEOUT_S = 5.0  # GET /models lists what is loaded; it generates nothing


@dataclass(frozen=True)
class Completion:
    """The parts of a chat completion the client reads."""

    content: str | None
    refusal: str | None
    model: str | None
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    has_choices: bool

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Completion:
        """Raises MalformedReply for a shape no completion has; usage and the model name are only
        recorded, so a bad one reads as absent."""
        choices = body.get("choices") or []
        if not isinstance(choices, list) or not all(isinstance(choice, Mapping) for choice in choices):
            raise MalformedReply("'choices' is not a list of objects")
        first = choices[0] if choices else {}
        message = first.get("message") or {}
        if not isinstance(message, Mapping):
            raise MalformedReply("the choice's 'message' is not an object")
        refusal = message.get("refusal")
        if refusal is not None and not isinstance(refusal, str):
            raise MalformedReply(f"the message's 'refusal' is not text ({type(refusal).__name__})")
        usage = body.get("usage") if isinstance(body.get("usage"), Mapping) else {}
        return cls(content=content_text(message.get("content")), refusal=refusal,
                   model=text_or_none(body.get("model")), finish_reason=text_or_none(first.get("finish_reason")),
                   prompt_tokens=token_count(usage.get("prompt_tokens")),
                   completion_tokens=token_count(usage.get("completion_tokens")),
                   has_choices=bool(choices))


def content_text(content: Any) -> str | None:
    """The message's text. Mistral's reasoning models (magistral) send a list of chunks: the
    "text" chunks are the answer, the "thinking" chunks are left out."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(chunk["text"] for chunk in content
                       if isinstance(chunk, Mapping) and chunk.get("type") == "text"
                       and isinstance(chunk.get("text"), str))
    raise MalformedReply(f"the message's content is not text ({type(content).__name__})")


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def token_count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


class TransportError(Exception):
    """The request got no usable answer; `kind` names how ("HTTP 429", "timeout", ...)."""

    kind = "error"

    def __str__(self) -> str:
        return f"{self.kind}: {super().__str__()}"


class ServerError(TransportError):
    """The server answered with an error status."""

    def __init__(self, status: int, message: str, body: str, headers: Mapping[str, str]):
        super().__init__(message)
        self.status, self.message, self.body = status, message, body
        self.headers = {name.lower(): value for name, value in headers.items()}  # HTTP names are case-blind
        self.kind = f"HTTP {status}"


class RequestTimeout(TransportError):
    kind = "timeout"


class MalformedReply(TransportError):
    """A JSON reply in no completion's shape: asked again, the server would answer the same."""

    kind = "malformed reply"


class ConnectionFailure(TransportError):
    """No answer at all: refused, reset, or a reply that is not a completion's JSON."""

    kind = "connection error"


class ChatTransport:
    """One connection pool to one server; open it inside the event loop that uses it."""

    def __init__(self, base_url: str, api_key: str, timeout_s: float):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.models_url = base_url.rstrip("/") + "/models"
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._proxy = env_proxy(self.url)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ChatTransport:
        # limit=0: the client's own semaphore bounds what is in flight. Not trust_env: it reads
        # ~/.netrc and the proxy variables on a thread for every request; the proxy is read once.
        self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout,
                                              connector=aiohttp.TCPConnector(limit=0))
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._session.close()

    async def create(self, request: Mapping[str, Any]) -> Completion:
        try:
            async with self._session.post(self.url, data=orjson.dumps(request), proxy=self._proxy) as response:
                raw = await response.read()
                headers = dict(response.headers)
                if response.status >= 400:
                    text = raw.decode("utf-8", "replace")
                    raise ServerError(response.status, error_message(text), text[:MAX_ERROR_TEXT],
                                      dict(response.headers))
        except TimeoutError as error:
            raise RequestTimeout(f"no answer within {self._timeout.total:g} s") from error
        except aiohttp.ClientError as error:
            raise ConnectionFailure(f"{type(error).__name__}: {error}{proxy_hint(self._proxy)}") from error
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise ConnectionFailure(f"the reply is not JSON: {raw[:200]!r}") from error
        if not isinstance(body, Mapping):
            raise ConnectionFailure(f"the reply is not a JSON object: {raw[:200]!r}")
        if isinstance(body.get("error"), Mapping) and not body.get("choices"):
            raise in_body_error(body["error"], raw.decode("utf-8", "replace"), headers)
        completion = Completion.from_json(body)
        if completion.finish_reason == "error":  # OpenRouter: the upstream model failed mid-answer
            raise ServerError(502, "the provider ended the answer with an error (finish_reason error)",
                              "", headers)
        return completion

    async def models_reply_headers(self) -> dict[str, str] | None:
        """The headers (names in lower case) of the server's GET /models reply, whatever its status;
        None when no reply came."""
        timeout = aiohttp.ClientTimeout(total=min(MODELS_TIMEOUT_S, self._timeout.total))
        try:
            async with self._session.get(self.models_url, proxy=self._proxy, timeout=timeout) as response:
                return {name.lower(): value for name, value in response.headers.items()}
        except (TimeoutError, aiohttp.ClientError):
            return None


def env_proxy(url: str) -> str | None:
    """The proxy that HTTP_PROXY / HTTPS_PROXY (else ALL_PROXY) name for `url`, unless NO_PROXY
    exempts its host: the rule httpx follows, so the preflight and the requests go the same way."""
    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(parts.scheme) or proxies.get("all")


def proxy_hint(proxy: str | None) -> str:
    """Said after a connection failure: a proxy, not the server, may be what refused."""
    if proxy is None:
        return ""
    parts = urlsplit(proxy)
    shown = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")  # no credentials
    return (f" (through proxy {shown}, from the proxy variables; if the server is not behind it, "
            f"add its host to NO_PROXY)")


def in_body_error(error: Mapping[str, Any], text: str, headers: Mapping[str, str]) -> ServerError:
    """OpenRouter reports an upstream failure after its 200 went out as {"error": {"code", "message"}}:
    the HTTP error it stands for (502 when its code is none)."""
    code = error.get("code")
    status = code if isinstance(code, int) and 400 <= code < 600 else 502
    message = error.get("message") if isinstance(error.get("message"), str) else text
    return ServerError(status, message[:MAX_ERROR_TEXT], text[:MAX_ERROR_TEXT], headers)


def error_message(text: str) -> str:
    """OpenAI-style servers put the reason in {"error": {"message": ...}}; else the text itself."""
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text[:MAX_ERROR_TEXT]
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping) and isinstance(error.get("message"), str):
        return error["message"][:MAX_ERROR_TEXT]
    if isinstance(error, str):
        return error[:MAX_ERROR_TEXT]
    return text[:MAX_ERROR_TEXT]
