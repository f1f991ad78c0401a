"""A recording proxy in front of an OpenAI-compatible server: what went over the wire per role
(requests, and the usage numbers the server itself returned), to check the client's accounting."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter, defaultdict

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response

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


class RecordingProxy:
    """`with RecordingProxy("http://127.0.0.1:PORT") as proxy:` ... `proxy.base_url`, `proxy.wire`."""

    def __init__(self, upstream: str):
        self.wire = WireLog()
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(proxy_app(upstream, self.wire),
                                                     log_level="warning", access_log=False))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
