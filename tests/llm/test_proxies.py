"""The proxy variables: the requests and the preflight follow one rule (HTTP(S)_PROXY, else ALL_PROXY,
NO_PROXY exempting), a failure through a proxy names it, and the temporary Prefect server on
loopback is asked directly."""

from __future__ import annotations

import asyncio
import socket

import pytest

from pipeline.cli.preflight import EndpointUnusable, listed_models
from pipeline.llm.config import EndpointConfig
from pipeline.llm.transport import ChatTransport, ConnectionFailure, env_proxy

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
                   "http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_all_proxy_is_honoured_when_no_scheme_proxy_is_set_and_no_proxy_exempts(monkeypatch):
    monkeypatch.setenv("ALL_PROXY", "http://proxy.corp:3128")
    assert env_proxy("http://llm.internal:9100/v1/chat/completions") == "http://proxy.corp:3128"
    monkeypatch.setenv("HTTP_PROXY", "http://web.corp:8080")
    assert env_proxy("http://llm.internal:9100/v1/chat/completions") == "http://web.corp:8080"
    monkeypatch.setenv("NO_PROXY", "llm.internal")
    assert env_proxy("http://llm.internal:9100/v1/chat/completions") is None


def test_a_connection_failure_through_a_proxy_names_it_and_no_proxy(monkeypatch):
    proxy = f"http://user:secret@127.0.0.1:{closed_port()}"
    monkeypatch.setenv("ALL_PROXY", proxy)

    async def send():
        async with ChatTransport("http://llm.internal:9100/v1", "sk-x", 5.0) as transport:
            await transport.create({"model": "m", "messages": []})

    with pytest.raises(ConnectionFailure) as caught:
        asyncio.run(send())
    assert f"through proxy http://127.0.0.1:{proxy.rsplit(':', 1)[1]}" in str(caught.value)
    assert "NO_PROXY" in str(caught.value) and "secret" not in str(caught.value)
    endpoint = EndpointConfig(base_url=f"http://127.0.0.1:{closed_port()}/v1")
    with pytest.raises(EndpointUnusable, match="through proxy .*add its host to NO_PROXY"):
        listed_models("default", endpoint)  # the preflight goes the same way, and says so


def test_a_socks_proxy_is_one_line_before_any_request(monkeypatch):
    # aiohttp speaks to HTTP proxies only (every request failed) and httpx needed socksio (a traceback)
    monkeypatch.setenv("ALL_PROXY", "socks5h://proxy.corp:1080")
    with pytest.raises(EndpointUnusable, match="through the socks5h proxy .* speaks to HTTP proxies only"):
        listed_models("default", EndpointConfig(base_url="http://llm.internal:9100/v1"))


@pytest.mark.slow
def test_the_temporary_prefect_servers_readiness_poll_skips_the_proxy(monkeypatch):
    from pipeline.prefect_server import LocalServer

    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "60")
    server = LocalServer()
    try:
        server.wait_until_ready()
    finally:
        server.stop()

