"""LLM batch throughput against the loopback server at 100 ms latency.

Compares, in one run and on the same server process:
- ours: `LLMClient.run_batch` (templates, limits, fresh on-disk cache, validation, accounting),
- bare: the openai SDK loop, a plain `AsyncOpenAI` client with a semaphore of the same
  size, sending the same pre-rendered requests and not parsing the answers (so "ours vs
  bare" is ours against the SDK's per-request CPU, not against every client: plain aiohttp
  costs less),
- sequential: the same bare `AsyncOpenAI` client (not ours), one request at a time, on
  fewer requests. "Ours vs sequential" is mostly the concurrency (`--in-flight` requests
  at once against one) and grows with `--requests` as ours spreads its start-up:
  51.8× at 2,000, 25.0× at 500.

The server runs in its own process so client and server don't share one GIL.
Prints one JSON object on its last line.

    python benchmarks/llm_throughput.py [--requests 2000] [--in-flight 64] [--latency-ms 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import tempfile
import time
from pathlib import Path

import httpx
from openai import AsyncOpenAI

from pipeline.contracts import ItemError
from pipeline.llm.client import LLMClient
from pipeline.llm.config import LLMSettings
from pipeline.llm.messages import RolePrompt, response_format
from pipeline.llm.roles import ROLES, VSILJudgeInput
from pipeline.testing.openai_server import FAKE_KEY_ENV, serve

ROLE = "vsil_judge"  # a short prompt and answer: the client's overhead dominates


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(latency_s: float) -> tuple[multiprocessing.Process, str]:
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=serve, args=(port,), kwargs={"latency_s": latency_s}, daemon=True)
    process.start()
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180  # a busy shared machine starts it slowly
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base_url}/models", timeout=2).raise_for_status()
            return process, base_url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the benchmark server did not start")


def inputs(n: int, tag: str) -> list[VSILJudgeInput]:
    return [VSILJudgeInput(query=f"{tag} question number {i}?", image_description="a quiet park")
            for i in range(n)]


def rendered(items: list[VSILJudgeInput]) -> list[dict]:
    prompt = RolePrompt(ROLES[ROLE], schema_in_prompt=False)
    return [{"model": "gpt-4o", "messages": prompt.messages(item), "temperature": 0.0,
             "max_tokens": 1024, "response_format": response_format(prompt.role)} for item in items]


async def bare_loop(base_url: str, requests: list[dict], in_flight: int) -> None:
    async with AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0) as client:
        gate = asyncio.Semaphore(in_flight)

        async def one(request: dict) -> None:
            async with gate:
                await client.chat.completions.create(**request)

        await asyncio.gather(*(one(r) for r in requests))


async def sequential_loop(base_url: str, requests: list[dict]) -> None:
    async with AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0) as client:
        for request in requests:
            await client.chat.completions.create(**request)


def server_cpu_s(base_url: str) -> float:
    return httpx.get(base_url.removesuffix("/v1") + "/_stats").json()["cpu_s"]


def timed(function) -> tuple[float, float]:
    """Wall seconds, and this process's CPU seconds (steadier than wall time on a busy machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def ours(base_url: str, items: list[VSILJudgeInput], in_flight: int, cache_dir: Path) -> int:
    """Returns the number of items that did not come back as an answer."""
    settings = LLMSettings.model_validate({
        "endpoints": {"default": {"base_url": base_url, "api_key_env": FAKE_KEY_ENV,
                                  "max_in_flight": in_flight}},
        "cache_path": cache_dir / "llm.sqlite"})
    client = LLMClient.from_settings(settings)
    try:
        return sum(isinstance(r, ItemError) for r in client.run_batch(ROLE, items))
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--sequential", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ[FAKE_KEY_ENV] = "bench"
    process, base_url = start_server(args.latency_ms / 1000)
    bare, mine, errors = [], [], 0
    try:
        asyncio.run(bare_loop(base_url, rendered(inputs(args.in_flight, "warm-up")), args.in_flight))
        cpu_before = server_cpu_s(base_url)
        for repeat in range(args.repeats):  # interleaved, so a busy moment hits both alike
            requests = rendered(inputs(args.requests, f"bare-{repeat}"))
            bare.append(timed(lambda: asyncio.run(bare_loop(base_url, requests, args.in_flight))))
            if repeat == 0:
                server_ms = (server_cpu_s(base_url) - cpu_before) * 1000 / args.requests
            with tempfile.TemporaryDirectory() as tmp:  # a fresh cache: every request is sent
                items = inputs(args.requests, f"ours-{repeat}")
                results = []
                mine.append(timed(lambda: results.append(ours(base_url, items, args.in_flight, Path(tmp)))))
                errors += results[0]
        sequential = rendered(inputs(args.sequential, "sequential"))
        sequential_s, _ = timed(lambda: asyncio.run(sequential_loop(base_url, sequential)))
    finally:
        process.terminate()
        process.join()
    figures = {
        "requests": args.requests, "in_flight": args.in_flight, "latency_ms": args.latency_ms,
        "repeats": args.repeats,  # the best of each is reported
        "ours_rps": round(args.requests / min(wall for wall, _ in mine), 1),
        "bare_rps": round(args.requests / min(wall for wall, _ in bare), 1),
        "ours_client_cpu_ms_per_request": round(min(cpu for _, cpu in mine) * 1000 / args.requests, 3),
        "bare_client_cpu_ms_per_request": round(min(cpu for _, cpu in bare) * 1000 / args.requests, 3),
        "sequential_rps": round(args.sequential / sequential_s, 2),
        "sequential_requests": args.sequential,
        "ours_errors": errors,
        "ceiling_rps": round(args.in_flight / (args.latency_ms / 1000), 1),
        "cpu_count": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),  # wall figures need both
        # one server core's capacity: what the fake server could answer if the clients kept up
        "server_cpu_ms_per_request": round(server_ms, 3),
        "server_capacity_rps": round(1000 / server_ms),
    }
    figures["ours_vs_bare"] = round(figures["ours_rps"] / figures["bare_rps"], 3)
    figures["ours_vs_sequential"] = round(figures["ours_rps"] / figures["sequential_rps"], 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
