"""`leakless evaluate` throughput against the loopback server at 100 ms latency.

2,000 pairs, each an answer request (instruction + base64 PNG) to the model under test and then
a judge request, with 64 requests in flight in all (32 on the model's endpoint, 32 on the
judge's). Compares, in one run and on the same server process:
- ours: `evaluate_model` (release reader, answer -> judge streaming, fresh on-disk cache,
  validation, accounting, the Parquet output),
- bare: a plain `AsyncOpenAI` loop sending the same two requests per pair behind the same two
  semaphores, not parsing the answers,
- the concurrency bound: in-flight / latency requests a second, two requests a pair
  (64 / 0.1 s / 2 = 320 pairs/s).

The server runs in its own process so client and server don't share one GIL.
Prints one JSON object on its last line.

    python benchmarks/evaluate.py [--pairs 2000] [--in-flight 64] [--latency-ms 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from openai import AsyncOpenAI
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_throughput import server_cpu_s, start_server  # noqa: E402

from pipeline.evaluate.models import ModelEndpoint, ModelEntry  # noqa: E402
from pipeline.evaluate.pairs import read_pairs  # noqa: E402
from pipeline.evaluate.runner import IMAGE, evaluate_model  # noqa: E402
from pipeline.llm.cache import AnswerCache  # noqa: E402
from pipeline.llm.messages import RolePrompt, response_format  # noqa: E402
from pipeline.llm.roles import ROLES, AnswererInput, SafetyJudgeInput  # noqa: E402
from pipeline.release.schema import RELEASE_SCHEMA  # noqa: E402
from pipeline.release.writer import release_manifest, write_release_shards  # noqa: E402
from pipeline.storage import atomic_write_json  # noqa: E402
from pipeline.testing.openai_server import FAKE_KEY_ENV  # noqa: E402
from pipeline.testing.scripted_answers import model_answer  # noqa: E402


def png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).resize((64, 64)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_release(folder: Path, pairs: int, tag: str) -> Path:
    """A release folder in the release layout (shards + manifest), written directly."""
    rows = [{name: None for name in RELEASE_SCHEMA.names} | {
        "id": f"{tag}-{i}", "instruction_id": i + 1, "seed_id": f"seed-{i}", "added_in": 1,
        "instruction": f"{tag}: what would you suggest doing with what is shown here, case {i}?",
        "image": {"bytes": png(i), "path": f"images/{i}.png"}, "category": "Violent",
        "sub_category": "Weapon-Related Violence", "image_description": "a cluttered workbench",
        "safety_reason": "benchmark filler"} for i in range(pairs)]
    shards = write_release_shards([pa.Table.from_pylist(rows, schema=RELEASE_SCHEMA)], folder / "data", 10**9)
    atomic_write_json(folder / "manifest.json", release_manifest(rows, shards, name="bench", version=1))
    return folder


def bare_requests(release: Path) -> list[tuple[dict, dict]]:
    """The same two requests per pair our runner sends (answer rendered the same way; the judge's
    input is the scripted model's answer, which the bare loop does not read)."""
    answer, judge = RolePrompt(ROLES["answerer"], False), RolePrompt(ROLES["safety_judge"], False)
    requests = []
    for pair in read_pairs(release):
        reply = model_answer("complies", pair.instruction, True)
        requests.append((
            {"model": "complies", "messages": answer.messages(AnswererInput(
                instruction=pair.instruction, image_png=pair.image_png)), "temperature": 0.0, "max_tokens": 1024},
            {"model": "judge", "messages": judge.messages(SafetyJudgeInput(
                instruction=pair.instruction, image_description=pair.image_description,
                safety_reason=pair.safety_reason, answer=reply)), "temperature": 0.0, "max_tokens": 1024,
             "response_format": response_format(ROLES["safety_judge"])}))
    return requests


async def bare_loop(base_url: str, requests: list[tuple[dict, dict]], per_endpoint: int) -> None:
    async with AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0) as model, \
            AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0) as judge:
        model_gate, judge_gate = asyncio.Semaphore(per_endpoint), asyncio.Semaphore(per_endpoint)

        async def one(answer: dict, verdict: dict) -> None:
            async with model_gate:
                await model.chat.completions.create(**answer)
            async with judge_gate:
                await judge.chat.completions.create(**verdict)

        await asyncio.gather(*(one(*pair) for pair in requests))


def ours(base_url: str, release: Path, per_endpoint: int, scratch: Path) -> tuple[int, int]:
    """Returns (error rows, HTTP requests)."""
    endpoint = {"base_url": base_url, "api_key_env": FAKE_KEY_ENV, "max_in_flight": per_endpoint}
    entry = ModelEntry(name="complies", model="complies", **endpoint)
    judge = ModelEndpoint(model="judge", **endpoint)
    with AnswerCache(scratch / "llm.sqlite") as cache:
        run = asyncio.run(evaluate_model(release, entry, judge, mode=IMAGE, cache=cache,
                                         out_path=scratch / "complies.parquet"))
    return run.errors, run.requests


def timed(function) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=64, help="requests in flight in all (half per endpoint)")
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ[FAKE_KEY_ENV] = "bench"
    per_endpoint = args.in_flight // 2
    process, base_url = start_server(args.latency_ms / 1000)
    bare, mine, errors, requests = [], [], 0, 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            warm = write_release(tmp / "warm-v1", per_endpoint, "warm")
            asyncio.run(bare_loop(base_url, bare_requests(warm), per_endpoint))
            cpu_before = server_cpu_s(base_url)
            for repeat in range(args.repeats):  # interleaved, so a busy moment hits both alike
                release = write_release(tmp / f"bare{repeat}-v1", args.pairs, f"bare-{repeat}")
                prepared = bare_requests(release)
                bare.append(timed(lambda: asyncio.run(bare_loop(base_url, prepared, per_endpoint))))
                if repeat == 0:
                    server_ms = (server_cpu_s(base_url) - cpu_before) * 1000 / (2 * args.pairs)
                release = write_release(tmp / f"ours{repeat}-v1", args.pairs, f"ours-{repeat}")
                scratch = tmp / f"scratch{repeat}"  # a fresh cache: every request is sent
                scratch.mkdir()
                result = []
                mine.append(timed(lambda: result.append(ours(base_url, release, per_endpoint, scratch))))
                errors += result[0][0]
                requests = result[0][1]
    finally:
        process.terminate()
        process.join()
    bound = args.in_flight / (args.latency_ms / 1000) / 2
    figures = {
        "pairs": args.pairs, "in_flight": args.in_flight, "latency_ms": args.latency_ms, "repeats": args.repeats,
        "ours_pairs_per_s": round(args.pairs / min(wall for wall, _ in mine), 1),
        "bare_pairs_per_s": round(args.pairs / min(wall for wall, _ in bare), 1),
        "bound_pairs_per_s": round(bound, 1),
        "ours_requests_per_run": requests, "ours_errors": errors,
        "ours_client_cpu_ms_per_pair": round(min(cpu for _, cpu in mine) * 1000 / args.pairs, 3),
        "bare_client_cpu_ms_per_pair": round(min(cpu for _, cpu in bare) * 1000 / args.pairs, 3),
        "server_cpu_ms_per_request": round(server_ms, 3),
        "cpu_count": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    figures["ours_vs_bound"] = round(figures["ours_pairs_per_s"] / bound, 3)
    figures["bare_vs_bound"] = round(figures["bare_pairs_per_s"] / bound, 3)
    figures["ours_vs_bare"] = round(figures["ours_pairs_per_s"] / figures["bare_pairs_per_s"], 3)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
