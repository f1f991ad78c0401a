"""Leak-detector throughput against MiniLM alone, measured in the same run.

    python benchmarks/detector.py [--pairs 2000] [--runs 3] [--precisions float32 [bfloat16]]

The pairs are the team's dev and holdout sets, each text made distinct with a
leading number ("Case 12: ...", "Frame 12: ...") so no cache or in-call
de-duplication can help either side: the detector reads a query as
`canonical_query` does, which strips a trailing tag like " (12)", so a trailing
number would fold the pairs back into a few hundred queries. The script checks
that the detector sees as many distinct queries as there are pairs and stops
otherwise. The baseline embeds every pair's query and description with MiniLM
and nothing else (what any embedding-based detector must at least do); the
detector run is the full `LeakDetector.score`, in the same arithmetic. Both run
in float32, the shipped default; `--precisions float32 bfloat16` measures
bfloat16 too (opt-in, `LEAKLESS_EMBED_PRECISION`). The last line is one JSON
object with the rates and their ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from pipeline.backends.minilm import MiniLMEmbedder
from pipeline.detect import LeakDetector, LeakInput
from pipeline.detect.signals import canonical_query
from pipeline.io.external import read_benchmark

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def team_rows(count: int) -> list:
    rows = [*read_benchmark(DATA / "detector_dev.jsonl"), *read_benchmark(DATA / "detector_holdout.jsonl")]
    return [rows[k % len(rows)] for k in range(count)]


def distinct_pairs(count: int) -> list[LeakInput]:
    """Every query and description its own text. The number leads: `canonical_query` strips a
    trailing tag like " (12)", which made 2,000 pairs 578 queries to the detector."""
    return [LeakInput(f"Case {k}: {row.query}", f"Frame {k}: {row.image_description}", row.category)
            for k, row in enumerate(team_rows(count))]


def build_like_pairs(count: int) -> list[LeakInput]:
    """As a build scores them: three distinct queries per image description."""
    return [LeakInput(f"Case {3 * k + q}: {row.query}", f"Frame {k}: {row.image_description}", row.category)
            for k, row in enumerate(team_rows(-(-count // 3))) for q in range(3)][:count]


def require_distinct(pairs: list[LeakInput], descriptions_distinct: bool) -> None:
    """Stop unless the detector sees one query per pair (and, where asked, the baseline one
    description per pair): folded texts would inflate the detector's ratio."""
    queries = len({canonical_query(p.query) for p in pairs})
    descriptions = len({p.image_description for p in pairs})
    if queries != len(pairs) or (descriptions_distinct and descriptions != len(pairs)):
        raise SystemExit(f"detector.py: {len(pairs)} pairs but {queries} distinct queries to the detector "
                         f"and {descriptions} distinct descriptions; the rates would not compare like for like")


def fastest_interleaved(runs: int, **work) -> dict[str, float]:
    """Each job's fastest time over `runs` rounds, the jobs taking turns so that
    load from other work on a shared machine hits both alike."""
    best = {name: float("inf") for name in work}
    for _ in range(runs):
        for name, job in work.items():
            start = time.perf_counter()
            job()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def native_bfloat16() -> bool:
    """AMX or AVX512-BF16: elsewhere bfloat16 is emulated and slower than float32."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def rates(precision: str, pairs: list[LeakInput], shared: list[LeakInput], runs: int) -> dict[str, float]:
    # No vector cache: every run must really embed its texts.
    embedder = MiniLMEmbedder(cache_size=0, precision=precision)
    detector = LeakDetector(embedder=embedder)
    if detector.calibration.adapter is not None:  # nor a cache of the adapter's scores
        detector.calibration.adapter.cache_size = 0
    embedder.embed(["warm-up"])  # model load is not part of either rate
    texts = [text for p in pairs for text in (p.query, p.image_description)]
    shared_texts = list(dict.fromkeys(text for p in shared for text in (p.query, p.image_description)))
    seconds = fastest_interleaved(runs, baseline=lambda: embedder.embed(texts),
                                  detector=lambda: detector.score(pairs),
                                  baseline_shared=lambda: embedder.embed(shared_texts),
                                  detector_shared=lambda: detector.score(shared))
    baseline, detection = seconds["baseline"], seconds["detector"]
    return {
        "minilm_only_pairs_per_s": round(len(pairs) / baseline, 1),
        "detector_pairs_per_s": round(len(pairs) / detection, 1),
        "ratio": round(baseline / detection, 3),
        # a build's batches: each description serves three queries and is embedded once
        "shared_descriptions_minilm_only_pairs_per_s": round(len(shared) / seconds["baseline_shared"], 1),
        "shared_descriptions_detector_pairs_per_s": round(len(shared) / seconds["detector_shared"], 1),
        "shared_descriptions_ratio": round(seconds["baseline_shared"] / seconds["detector_shared"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    # float32 is what ships and what the detector was calibrated in; bfloat16 is opt-in, and
    # measuring it doubles the run, so it is measured only when asked for.
    parser.add_argument("--precisions", nargs="+", choices=["float32", "bfloat16"], default=["float32"])
    args = parser.parse_args()

    pairs, shared = distinct_pairs(args.pairs), build_like_pairs(args.pairs)
    require_distinct(pairs, descriptions_distinct=True)
    require_distinct(shared, descriptions_distinct=False)
    result = {"benchmark": "detector", "pairs": len(pairs), "cpus": os.cpu_count(),
              "distinct_queries_to_detector": len({canonical_query(p.query) for p in pairs})}
    for precision in args.precisions:
        figures = rates(precision, pairs, shared, args.runs)
        if precision == "float32":
            result.update(figures)
        else:
            result[precision] = {**figures, "native": native_bfloat16()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
