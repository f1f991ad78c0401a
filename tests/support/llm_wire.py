"""A recording proxy in front of an OpenAI-compatible server: what went over the wire per role
(requests, and the usage numbers the server itself returned), to check the client's accounting."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from contextlib import contextmanager

import httpx
from fastapi import FastAPI, Request, Response
from tests.support.review_runs import serving

from pipeline.testing.openai_server import role_of


class WireLog:
    def __init__(self) -> None:
        self.requests: Counter = Counter()
        self.usage: dict[str, Counter] = defaultdict(Counter)
        self.statuses: Counter = Counter()
        self.seconds: Counter = Counter()  # wall time per role, server and queue included


def proxy_app(upstream: str, wire: WireLog) -> FastAPI:
    app = FastAPI()
    client = httpx.AsyncClient(base_url=upstream, timeout=600)

    @app.api_route("/v1/{path:path}", methods=["GET", "POST"])
    async def forward(path: str, request: Request) -> Response:
        body = await request.body()
        role = None
        if request.method == "POST" and path == "chat/completions":
            role = role_of(json.loads(body))
            wire.requests[role] += 1
        started = time.monotonic()
        answer = await client.request(request.method, f"/v1/{path}", content=body,
                                      headers={"content-type": "application/json"})
        if role is not None:
            wire.seconds[role] += time.monotonic() - started
            wire.statuses[answer.status_code] += 1
            if answer.status_code == 200:
                for name, value in (answer.json().get("usage") or {}).items():
                    wire.usage[role][name] += value
        return Response(answer.content, status_code=answer.status_code,
                        media_type=answer.headers.get("content-type"))

    return app


@contextmanager
def recording_proxy(upstream: str):
    """`with recording_proxy("http://127.0.0.1:PORT") as (base_url, wire):` ..."""
    wire = WireLog()
    with serving(proxy_app(upstream, wire)) as url:
        yield f"{url}/v1", wire
