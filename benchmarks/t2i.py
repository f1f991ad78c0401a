"""Text-to-image throughput: our diffusers backend against a plain diffusers loop.

What it measures is `DiffusersImageGenerator.generate()`'s own overhead on an
already loaded pipeline: both sides run the same pipeline object, batch size,
prompts, seeds and per-item CPU generators; ours adds PNG encoding, sha256,
pHash and the black/flagged checks. Model loading, Prefect and a build's
threads are not in it. Runs alternate (ours, plain, ...) and each side's best
run is compared: on a shared CPU, load from other processes only ever adds
time, so the fastest run is the least disturbed one (medians are printed too).
Ours does strictly more work than the plain loop, so a ratio above 1 is noise.

torch runs on one CPU thread unless `--threads` says otherwise: with torch's
default thread count on a shared CPU both sides swing by more than 10x from run
to run (OpenMP barrier stalls), which swamps the difference being measured.

    python benchmarks/t2i.py                     # CPU: a tiny random-weight pipeline, 1 thread
    python benchmarks/t2i.py --threads 0         # torch's own thread count (a quiet machine)
    python benchmarks/t2i.py --model PATH --steps 28 --size 1024   # a real model on a GPU

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import pipeline  # noqa: F401  (offline environment defaults)
from pipeline.backends.base import ImageRequest
from pipeline.backends.diffusers_images import DiffusersConfig, DiffusersImageGenerator
from pipeline.testing.tiny_diffusers import (build_tiny_flux_pipeline, build_tiny_sd3_pipeline,
                                              build_tiny_sd_pipeline, build_tiny_sdxl_pipeline)

TINY = {"sd": build_tiny_sd_pipeline, "sdxl": build_tiny_sdxl_pipeline, "sd3": build_tiny_sd3_pipeline,
        "flux": build_tiny_flux_pipeline}


def plain_loop(pipe, requests: list[ImageRequest], batch_size: int, arguments) -> list:
    """A plain diffusers loop with the same call settings (`arguments(batch size)`)."""
    import torch

    images = []
    for start in range(0, len(requests), batch_size):
        batch = requests[start:start + batch_size]
        images += pipe(prompt=[r.prompt for r in batch],
                       generator=[torch.Generator("cpu").manual_seed(r.seed) for r in batch],
                       **arguments(len(batch))).images
    return images


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a diffusers folder or cached hub id (default: tiny, built here)")
    parser.add_argument("--tiny", choices=sorted(TINY), default="sd", help="the tiny model's family")
    parser.add_argument("--n", type=int, default=16, help="images per timed run")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads for both sides (default 1: on a shared CPU more threads "
                             "stall on OpenMP barriers and swamp the difference; 0: torch's own count)")
    args = parser.parse_args()
    import torch  # after the arguments: `--help` does not wait for torch

    if args.threads:
        torch.set_num_threads(args.threads)

    device = "cuda:0" if torch.cuda.is_available() else "cpu"
    with tempfile.TemporaryDirectory() as scratch:
        model = args.model or str(TINY[args.tiny](scratch))
        config = DiffusersConfig(model=model, steps=args.steps, width=args.size, height=args.size,
                                 batch_size=args.batch_size, devices=[device], allow_cpu=device == "cpu")
        ours = DiffusersImageGenerator(config)
        pipe = ours.pipelines[0]  # the very pipeline the plain loop drives too
        requests = [ImageRequest(f"bench-{n}", f"a street scene, photo number {n}", 1000 + n)
                    for n in range(args.n)]
        ours.generate(requests[:args.batch_size])  # warm-up: first calls pay one-off costs
        plain_loop(pipe, requests[:args.batch_size], args.batch_size, ours.call_arguments)
        ours_seconds, plain_seconds = [], []
        for _ in range(args.repeats):
            ours_seconds.append(timed(lambda: ours.generate(requests)))
            plain_seconds.append(timed(lambda: plain_loop(pipe, requests, args.batch_size, ours.call_arguments)))

    ours_rate, plain_rate = args.n / min(ours_seconds), args.n / min(plain_seconds)
    print(json.dumps({
        "benchmark": "t2i", "ours_images_per_s": round(ours_rate, 3),
        "plain_images_per_s": round(plain_rate, 3), "ratio": round(ours_rate / plain_rate, 3),
        "median_ratio": round(statistics.median(plain_seconds) / statistics.median(ours_seconds), 3),
        "device": device, "model": args.model or f"tiny-random-{args.tiny} (built in a temp dir)",
        "batch_size": args.batch_size, "n": args.n, "steps": args.steps,
        "size": args.size, "repeats": args.repeats, "torch_threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
