"""`leakless audit` at size: peak memory and throughput against MiniLM alone, measured in the same run.

    python benchmarks/audit_scale.py [--rows 20000] [--chunk-size 2000] [--baseline-rows N]

Makes a JSONL file of N rows in VLSBench's layout, each query and description
made distinct with its row number so no cache can help, then runs two fresh
processes on it one after the other: the real `leakless audit` command, and a
baseline that reads the same file in the same chunks and only embeds each row's
query and description with MiniLM (what any embedding-based detector must at
least do). Both include start-up and model load. Each process's peak RSS is
read from the kernel (`wait4`). The last line is one JSON object.
`--baseline-rows N` embeds only the file's first N rows in the baseline (its rate
does not grow with the file), which halves a 500,000-row run. Both processes embed
in the precision `LEAKLESS_EMBED_PRECISION` names (float32 unless set).

    python benchmarks/audit_scale.py --rows 500000 --reused-scores

measures only what grows with the file: the same reader, Parquet writer and
counts over all N rows, in one process with the model loaded, but the detector
scores the first chunk and its scores are reused for every later chunk. It
answers "is memory bounded by the chunk size?" at sizes whose scoring would
take hours on a shared machine; it is no throughput figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def make_rows(path: Path, count: int) -> None:
    """Team pairs, cycled, each text numbered; one row in ten without a description (text-only).
    The number leads the query: the detector strips a trailing tag like " (12)" before embedding."""
    sources = [json.loads(line) for name in ("detector_dev.jsonl", "detector_holdout.jsonl")
               for line in (DATA / name).read_text().splitlines() if line.strip()]
    with path.open("w", encoding="utf-8") as handle:
        for k in range(count):
            row = sources[k % len(sources)]
            handle.write(json.dumps({
                "instruction_id": k, "instruction": f"Case {k}: {row['query']}",
                "image_description": None if k % 10 == 9 else f"Frame {k}: {row['image_description']}",
                "category": row.get("category"), "source": "audit_scale"}) + "\n")


def baseline(path: Path, chunk_size: int, rows: int | None) -> None:
    """MiniLM alone on the same texts, read the same way: no lexicon, probe, or output."""
    from pipeline.backends.minilm import MiniLMEmbedder, configured_precision

    embedder = MiniLMEmbedder(cache_size=0, precision=configured_precision())
    with path.open(encoding="utf-8") as handle:
        lines = islice(handle, rows)
        while chunk := list(islice(lines, chunk_size)):
            rows = [json.loads(line) for line in chunk]
            embedder.embed([text for row in rows for text in (row["instruction"], row["image_description"])
                            if text])


def reused_scores(path: Path, out: Path, chunk_size: int) -> None:
    """The audit's streaming path over the whole file, the real detector scoring only the first chunk."""
    from pipeline.detect import LeakDetector
    from pipeline.io.audit_table import AuditTableWriter
    from pipeline.io.external import BenchmarkReader
    from pipeline.report.benchmark_audit import audit_benchmark

    detector = LeakDetector()
    first: list = []

    class FirstChunkScores:
        threshold = detector.threshold

        def score(self, items):
            first.extend([] if first else detector.score(items))
            return [first[i % len(first)] for i in range(len(items))]

    reader = BenchmarkReader(path, require_description=False)
    with AuditTableWriter(out, out.with_suffix(".rejects.jsonl"), {"detector": detector.version},
                          detector.threshold) as writer:
        audit_benchmark(reader, FirstChunkScores(), writer, chunk_size)


def measured(command: list[str]) -> dict:
    """Wall seconds and peak RSS (MiB) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()[-500:]}")
    # CPU seconds too: on a shared machine wall time also measures the neighbours
    return {"seconds": round(seconds, 1), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mib": round(usage.ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--reused-scores", action="store_true", help="memory of the streaming path only")
    parser.add_argument("--baseline-rows", type=int, help="the baseline embeds only the first N rows (default: all)")
    parser.add_argument("--baseline-of", type=Path, help=argparse.SUPPRESS)  # the children's own processes
    parser.add_argument("--reused-scores-of", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_of:
        baseline(args.baseline_of, args.chunk_size, args.baseline_rows)
        return
    if args.reused_scores_of:
        reused_scores(args.reused_scores_of, args.reused_scores_of.with_suffix(".parquet"), args.chunk_size)
        return
    if args.reused_scores:
        with tempfile.TemporaryDirectory(prefix="audit_scale.") as folder:
            source = Path(folder) / "data.jsonl"
            make_rows(source, args.rows)
            run = measured([sys.executable, __file__, "--reused-scores-of", str(source),
                            "--chunk-size", str(args.chunk_size)])
            print(json.dumps({"benchmark": "audit_scale.reused_scores", "rows": args.rows,
                              "chunk_size": args.chunk_size, "input_mib": round(source.stat().st_size / 2**20),
                              "peak_rss_mib": run["peak_rss_mib"], "seconds": run["seconds"],
                              "cpu_seconds": run["cpu_seconds"]}))
        return

    with tempfile.TemporaryDirectory(prefix="audit_scale.") as folder:
        source = Path(folder) / "data.jsonl"
        make_rows(source, args.rows)
        audit = measured([sys.executable, "-m", "pipeline.cli", "audit", str(source), "--chunk-size",
                          str(args.chunk_size), "--out", str(Path(folder) / "audit.parquet")])
        baseline_rows = min(args.baseline_rows or args.rows, args.rows)
        minilm = measured([sys.executable, __file__, "--baseline-of", str(source),
                           "--chunk-size", str(args.chunk_size), "--baseline-rows", str(baseline_rows)])
        input_mib = round(source.stat().st_size / 2**20)
    print(json.dumps({
        "benchmark": "audit_scale", "rows": args.rows, "chunk_size": args.chunk_size, "input_mib": input_mib,
        "cpus": os.cpu_count(), "precision": os.environ.get("LEAKLESS_EMBED_PRECISION", "float32"),
        "baseline_rows": baseline_rows,
        "audit_rows_per_s": round(args.rows / audit["seconds"], 1),
        "minilm_only_rows_per_s": round(baseline_rows / minilm["seconds"], 1),
        "ratio": round((args.rows / audit["seconds"]) / (baseline_rows / minilm["seconds"]), 3),
        "cpu_time_ratio": round((args.rows / audit["cpu_seconds"]) / (baseline_rows / minilm["cpu_seconds"]), 3),
        "audit_peak_rss_mib": audit["peak_rss_mib"], "minilm_only_peak_rss_mib": minilm["peak_rss_mib"],
        "audit_seconds": audit["seconds"], "minilm_only_seconds": minilm["seconds"],
        "audit_cpu_seconds": audit["cpu_seconds"], "minilm_only_cpu_seconds": minilm["cpu_seconds"],
    }))


if __name__ == "__main__":
    main()
