"""A build at scale through every text role against the loopback server (100 ms latency,
64 requests in flight): elements grown first, then seed writer, leak rewriter, VSIL judge,
harm filter in the Prefect build, then the pair checker over the accepted pairs.

Figures, each beside its baseline from the same run:
- pairs/s against the bound the concurrency sets: in_flight / latency / requests per pair;
- Prefect's share: the same build as a plain thread pool of the same size (no Prefect), and
  the share of the flow's wall in which no stage was running;
- peak RSS of the build process, requests per role, the server's peak in-flight count, the
  connections the client opened, and how long a request was out on average, by role (sent
  until answered; the latency is the floor), beside how long the server held it;
- with --check-seeds N: a threads build of N seeds as reference, the same on the Dask runner
  (LocalCluster, two workers) compared row for row, and one SIGKILLed halfway and rerun
  with the same run id: same rows, and how many requests it re-sent against how many were
  in flight at the kill.

Every build runs in its own process; the server in another. Prints one JSON object last.

    python benchmarks/build_llm.py --seeds 2000 [--check-seeds 2000] [--no-baseline] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SUBS = 19

from benchmarks.llm_throughput import start_server  # noqa: E402  (the server in its own process)


def server_stats(base_url: str) -> dict:
    return httpx.get(base_url.removesuffix("/v1") + "/_stats", timeout=30).json()


def overrides(spec: dict) -> list[str]:
    """The build config of every build here: all text roles on the loopback server."""
    folder = Path(spec["folder"])
    return [f"run.size={spec['size']}", f"run.runs_dir='{folder / 'runs'}'",
            "backends.seed_writer='llm'", "backends.rewriter='llm'", "backends.harm_check='llm'",
            "backends.vsil_judge='llm'", "backends.element_writer='llm'", "images.width=64", "images.height=64",
            f"elements.store='{folder / 'store'}'", "elements.per_request=50", "elements.max_requests=1000",
            f"runner.kind='{spec.get('runner', 'threads')}'", f"runner.max_workers={spec.get('workers', 4)}",
            f"run.batch_size={spec.get('batch_size', 128)}",
            f"llm.endpoints.default.base_url='{spec['base_url']}'",
            "llm.endpoints.default.api_key_env='LEAKLESS_FAKE_LLM_KEY'",
            f"llm.endpoints.default.max_in_flight={spec['in_flight']}",
            f"llm.cache_path='{folder / ('llm-' + spec['run_id'] + '.sqlite')}'"]


# -- children: each runs in a fresh process and prints one JSON line ---------------------------

def child_grow(spec: dict) -> dict:
    from pipeline.config import load_config
    from pipeline.elements import known_library
    from pipeline.elements.grow import grow_elements
    from pipeline.taxonomy import load_taxonomy

    config = load_config(None, overrides(spec))
    have = {sub: 0 for sub in load_taxonomy().sub_categories}
    for element in known_library(config).elements:
        have[element.sub_category] += 1
    started = time.perf_counter()
    report = grow_elements(config, {sub: spec["size"] - n for sub, n in have.items()}, run_id="bench-grow")
    return {"wall_s": time.perf_counter() - started, "added": sum(report.added.values()),
            "refused": dict(report.refused), "short": report.short, "failed_requests": report.failed_requests}


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, -math.inf
    for start, stop in sorted(intervals):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def child_build(spec: dict) -> dict:
    """`prefect`: the build as a user runs it (`timed_build`); `plain`: the same stages on a plain
    thread pool of the same size. Models are loaded before the clock starts in both."""
    from pipeline import build
    from pipeline.batch import make_batches
    from pipeline.config import load_config
    from pipeline.factory import STAGE_ORDER, build_stages, config_key, llm_client
    from pipeline.plan import plan_seeds
    from pipeline.rundir import RunDir

    config = load_config(None, overrides(spec))
    run = RunDir(config.run.runs_dir, spec["run_id"])
    intervals: list[tuple[float, float]] = []
    original = build.run_stage

    def timed_stage(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            intervals.append((started, time.perf_counter()))

    build.run_stage = timed_stage
    startup = 0.0
    key = config_key(config)
    if spec["mode"] == "plain" or config.runner.kind == "threads":
        build_stages(key, run.path)  # load the models (the CLI overlaps this with Prefect's start)
    if spec["mode"] == "plain":
        started = time.perf_counter()
        run.claim(config)
        batches = make_batches(plan_seeds(config), config.run.batch_size)

        def chain(batch):
            for stage in STAGE_ORDER:
                batch = build.run_stage(stage, batch, key, run)
            return batch

        with build.fewer_collections():  # as the flow does
            with ThreadPoolExecutor(max_workers=config.runner.max_workers) as pool:
                done = list(pool.map(chain, batches))
            finalize_start = time.perf_counter()
            ledger, _ = build.finalize(done, config, run, finalize_start - started)
            intervals.append((finalize_start, time.perf_counter()))
        wall = time.perf_counter() - started
        seeds = len(ledger)
    else:
        startup, wall, result = timed_build(config, spec["run_id"])
        seeds = result["seeds"]
    import pandas as pd

    shards = pd.read_parquet(run.path / "data", columns=["instruction", "image_description"])
    checked = pair_check(config, shards) if spec.get("pair_check") else {}
    roles = llm_client(config).accounting.summary() if config.runner.kind == "threads" else {}
    request_ms = {role: round(1000 * u["request_s"] / u["requests"], 1) for role, u in roles.items() if u["requests"]}
    usage = resource.getrusage(resource.RUSAGE_SELF)  # CPU seconds: on a shared machine, what it got
    client = client_process_usage(llm_client(config)) if config.runner.kind == "threads" else {}
    return {"wall_s": wall, "prefect_startup_s": startup, "busy_s": union_seconds(intervals),
            "seeds": seeds, "pairs": len(shards), **checked, "mean_request_ms": request_ms,
            # the client's process counts too: the sum of two peaks, an upper bound
            "peak_rss_mb": usage.ru_maxrss / 1024 + client.get("peak_rss_mb", 0.0),
            "cpu_s": usage.ru_utime + usage.ru_stime + client.get("cpu_s", 0.0),
            "client_process": client}


def timed_build(config, run_id: str) -> tuple[float, float, dict]:
    """`flows.build.build`, what `leakless build` does around the flow (its own Prefect server, the
    run's lock), timed in two parts: the start-up (importing Prefect, the server's start, the busy-run
    check and the lock) and the flow call alone. The flow's wall is what the plain thread pool is held
    against (`prefect_share`, the ratio to the bound): the server's start, a fixed ~7 s (README), would
    read there as Prefect's share of a 40 s build, so it stays out of it."""
    started = time.perf_counter()
    import flows.build

    bare, marks = flows.build.build_flow, {}

    class TimedFlow:  # `build` runs build_flow.with_options(task_runner=...)(config, run_id, ...)
        def with_options(self, **options):
            flow = bare.with_options(**options)

            def timed(*args, **kwargs):
                marks["flow"] = time.perf_counter()
                try:
                    return flow(*args, **kwargs)
                finally:
                    marks["done"] = time.perf_counter()
            return timed

    flows.build.build_flow = TimedFlow()
    try:
        result = flows.build.build(config, run_id, show_progress=False)
    finally:
        flows.build.build_flow = bare
    if "flow" not in marks:
        raise RuntimeError(f"run {run_id} was finished already, so nothing was built: remove "
                           f"{config.run.runs_dir / run_id} or use a fresh --keep folder")
    return marks["flow"] - started, marks["done"] - marks["flow"], result


def client_process_usage(client) -> dict:
    """Peak RSS and CPU seconds of the LLM client's own process (`pipeline.llm.process`), from /proc."""
    if not hasattr(client, "pid"):
        return {}
    status = Path(f"/proc/{client.pid}/status").read_text()
    peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    ticks = Path(f"/proc/{client.pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13]  # utime, stime
    return {"peak_rss_mb": peak_kb / 1024, "cpu_s": sum(map(int, ticks)) / os.sysconf("SC_CLK_TCK")}


def pair_check(config, shards) -> dict:
    """The release's pair checker role over every accepted pair, 4,096 at a time."""
    from pipeline.backends.base import ItemError
    from pipeline.factory import llm_client
    from pipeline.llm.roles import PairCheckerInput

    client = llm_client(config)
    inputs = [PairCheckerInput(query=q, image_description=d)
              for q, d in zip(shards["instruction"], shards["image_description"])]
    started, failed = time.perf_counter(), 0
    for start in range(0, len(inputs), 4096):
        failed += sum(isinstance(a, ItemError) for a in client.run_batch("pair_checker", inputs[start:start + 4096]))
    return {"pair_check_wall_s": time.perf_counter() - started, "pair_check_failed": failed}


# -- the parent ----------------------------------------------------------------------------

def child_command(spec: dict) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]


def child_env() -> dict:
    env = {**os.environ, "LEAKLESS_FAKE_LLM_KEY": "bench", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.setdefault("LEAKLESS_ARTIFACTS", str(Path(tempfile.gettempdir()) / "leakless-bench-artifacts"))
    return env


def run_child(spec: dict, base_url: str) -> dict:
    before = server_stats(base_url)
    started = time.perf_counter()
    done = subprocess.run(child_command(spec), cwd=ROOT, env=child_env(), capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{spec['mode']} {spec.get('run_id')} failed:\n{done.stderr[-3000:]}")
    after = server_stats(base_url)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_wall_s"] = time.perf_counter() - started
    figures["requests"] = {role: n - before["requests"].get(role, 0) for role, n in after["requests"].items()
                           if n - before["requests"].get(role, 0)}
    figures["server_cpu_s"] = after["cpu_s"] - before["cpu_s"]
    figures["server_in_flight_s"] = after["in_flight_s"] - before["in_flight_s"]
    figures["peak_in_flight"] = after["peak_in_flight"]  # since the server started
    figures["connections"] = after["connections"] - before["connections"]
    return figures


def rows(run_dir: Path):
    import pandas as pd

    frame = pd.read_parquet(run_dir / "data").drop(columns=["run_id"])
    frame["image"] = frame["image"].map(lambda image: image["bytes"])
    return frame.sort_values("id").reset_index(drop=True)


def compare(run: Path, reference: Path) -> dict:
    """Exactly the same rows? If not, how far the float columns drift (none should: MiniLM embeds
    unpadded, so a text's vectors do not depend on what it is batched with)."""
    import numpy as np

    got, expected = rows(run), rows(reference)
    exact = got.equals(expected)
    floats = [c for c in expected.columns if expected[c].dtype.kind == "f"]
    others = [c for c in expected.columns if c not in floats]
    same_shape = len(got) == len(expected) and got[others].equals(expected[others])
    drift = max((float(np.nanmax(np.abs(got[c] - expected[c]))) for c in floats), default=0.0) if same_shape else None
    return {"identical": exact, "same_within_1e-6": bool(same_shape and drift is not None and drift <= 1e-6),
            "max_float_drift": drift}


def committed_answers(spec: dict) -> int:
    """Answers the run's cache holds: each was committed as it arrived."""
    import sqlite3

    path = Path(spec["folder"]) / f"llm-{spec['run_id']}.sqlite"
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]


def kill_halfway(spec: dict, base_url: str, reference_requests: int) -> dict:
    """Start the build, SIGKILL its process group once half the reference's requests were sent,
    then rerun the same run id to the end.

    Two counts of what was in flight at the kill: the server's (requests it had not answered),
    and requests sent less answers in the killed run's cache. The client counts a request in
    flight until its answer is committed, so at most `in_flight` are re-sent; the server's
    count leaves out answers on their way back or waiting for the commit. The second count
    overstates: identical requests (the same query and description in two seeds) are each
    sent and share one cached answer, hundreds at a few thousand seeds."""
    before = sum(server_stats(base_url)["requests"].values())
    process = subprocess.Popen(child_command(spec), cwd=ROOT, env=child_env(), start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while process.poll() is None:
        stats = server_stats(base_url)
        if sum(stats["requests"].values()) - before >= reference_requests / 2:
            os.killpg(process.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    else:
        raise RuntimeError("the build ended before half its requests: nothing was killed")
    process.wait()
    time.sleep(1.0)  # the killed requests' handlers finish on the server
    sent_before_kill = sum(server_stats(base_url)["requests"].values()) - before
    sent_less_cached = sent_before_kill - committed_answers(spec)
    resumed = run_child(spec, base_url)
    sent = sent_before_kill + sum(resumed["requests"].values())
    return {"sent_before_kill": sent_before_kill, "server_in_flight_at_kill": stats["in_flight"],
            "sent_less_cached_answers": sent_less_cached, "sent_in_all": sent, "re_sent": sent - reference_requests,
            "in_flight_limit": spec["in_flight"]}


def build_spec(args, folder: Path, base_url: str, seeds: int) -> dict:
    """What every child of one run shares: ⌈seeds ÷ 19⌉ elements a sub-category, the server, the runner."""
    return {"folder": str(folder), "size": math.ceil(seeds / SUBS), "base_url": base_url,
            "in_flight": args.in_flight, "workers": args.workers, "batch_size": args.batch_size}


def checks(args, folder: Path, base_url: str, main_build: dict | None) -> dict:
    spec = build_spec(args, folder, base_url, args.check_seeds)
    if main_build is None:
        reference = run_child({**spec, "mode": "prefect", "run_id": "check-reference"}, base_url)
        reference_run = "check-reference"
    else:
        reference, reference_run = main_build, "prefect"
    dask = run_child({**spec, "mode": "prefect", "run_id": "check-dask", "runner": "dask", "workers": 2}, base_url)
    build_requests = sum(n for role, n in reference["requests"].items() if role != "pair_checker")
    killed = kill_halfway({**spec, "mode": "prefect", "run_id": "check-killed"}, base_url, build_requests)
    runs = folder / "runs"
    return {"check_seeds": reference["seeds"], "check_pairs": reference["pairs"], "dask_wall_s": round(dask["wall_s"], 1),
            "dask_rows": compare(runs / "check-dask", runs / reference_run), **killed,
            "resumed_rows": compare(runs / "check-killed", runs / reference_run)}


def summarise(args, grown: dict, main: dict, plain: dict | None) -> dict:
    requests = sum(main["requests"].values())
    total_wall = main["wall_s"] + main["pair_check_wall_s"]
    ceiling_rps = args.in_flight / (args.latency_ms / 1000)
    figures = {
        "seeds": main["seeds"], "pairs": main["pairs"], "latency_ms": args.latency_ms, "in_flight": args.in_flight,
        "workers": args.workers, "batch_size": args.batch_size,
        "cpu_count": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
        "grow_wall_s": round(grown["wall_s"], 1), "grow_requests": sum(grown["requests"].values()),
        "elements_grown": grown["added"], "elements_refused": grown["refused"],
        "build_wall_s": round(main["wall_s"], 1), "pair_check_wall_s": round(main["pair_check_wall_s"], 1),
        "requests": requests, "requests_by_role": main["requests"],
        "requests_per_seed": round(requests / main["seeds"], 3),
        "pairs_per_s": round(main["pairs"] / total_wall, 2),
        "bound_pairs_per_s": round(ceiling_rps * main["pairs"] / requests, 2),
        "requests_per_s": round(requests / total_wall, 1), "ceiling_requests_per_s": ceiling_rps,
        "server_peak_in_flight": main["peak_in_flight"],
        "connections_opened": main["connections"],  # kept alive across batches: at most the in-flight limit
        # sent until answered, by role, against the server's latency: the client's share of the gap to the bound
        "mean_request_ms": main["mean_request_ms"],
        "server_cpu_ms_per_request": round(main["server_cpu_s"] * 1000 / requests, 3),
        # arrival to answer on the server, against the latency: what the stand-in adds itself
        "server_mean_ms": round(main["server_in_flight_s"] * 1000 / requests, 1),
        "peak_rss_mb": round(main["peak_rss_mb"]),
        "prefect_startup_s": round(main["prefect_startup_s"], 1),
        "idle_share_of_flow": round(1 - main["busy_s"] / main["wall_s"], 4),
    }
    figures["ratio_to_bound"] = round(figures["pairs_per_s"] / figures["bound_pairs_per_s"], 3)
    if plain is not None:
        figures["plain_build_wall_s"] = round(plain["wall_s"], 1)
        figures["plain_peak_rss_mb"] = round(plain["peak_rss_mb"])
        figures["prefect_share"] = round((main["wall_s"] - plain["wall_s"]) / main["wall_s"], 4)
        figures["same_rows_as_plain"] = None  # filled by the caller
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--check-seeds", type=int, default=0, help="Dask and kill/resume checks at this size")
    parser.add_argument("--workers", type=int, default=4, help="runner.max_workers: batches in flight at once")
    parser.add_argument("--batch-size", type=int, default=128, help="run.batch_size: seeds a Prefect task takes")
    parser.add_argument("--no-baseline", action="store_true", help="skip the plain thread-pool build")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        result = child_grow(spec) if spec["mode"] == "grow" else child_build(spec)
        print(json.dumps(result))
        return
    os.environ["LEAKLESS_FAKE_LLM_KEY"] = "bench"
    folder = args.keep or Path(tempfile.mkdtemp(prefix="build-llm-"))
    folder.mkdir(parents=True, exist_ok=True)
    process, base_url = start_server(args.latency_ms / 1000)
    spec = build_spec(args, folder, base_url, args.seeds)
    try:
        grown = run_child({**spec, "mode": "grow", "run_id": "grow"}, base_url)
        print(json.dumps({"grown": grown}), file=sys.stderr, flush=True)
        main_build = run_child({**spec, "mode": "prefect", "run_id": "prefect", "pair_check": True}, base_url)
        print(json.dumps({"prefect": main_build}), file=sys.stderr, flush=True)
        plain = None
        if not args.no_baseline:
            plain = run_child({**spec, "mode": "plain", "run_id": "plain"}, base_url)
            print(json.dumps({"plain": plain}), file=sys.stderr, flush=True)
        figures = summarise(args, grown, main_build, plain)
        if plain is not None:
            figures["same_rows_as_plain"] = compare(folder / "runs" / "plain", folder / "runs" / "prefect")
        if args.check_seeds:
            same_size = math.ceil(args.check_seeds / SUBS) == spec["size"]
            figures.update(checks(args, folder, base_url, main_build if same_size else None))
    finally:
        process.terminate()
        process.join()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
