"""How much the offline default's text reads like a real benchmark: the full offline
library build (`leakless build --size 20`) and its preview release, beside the VLSBench
sample (--vlsbench-sample, by default ../shared/reference/vlsbench_dev_sample.json, read where
the shared folder has it: the project may not copy it).

Figures, for the accepted pairs of the build and for the VLSBench queries:
- top_4gram_share: share of queries holding the most common 4-word phrase;
- distinct_2: distinct word pairs / all word pairs, the mean over random samples of the
  same number of queries (distinct-2 falls as a corpus grows, so sets are compared at
  equal size: the VLSBench sample's size, and 172, the size the issue first measured at);
- mean_words: mean query length in words;
- element_term_share: share of final rewrites that still hold an element term (element,
  synonym or broader term), over every query that reached the leak filter;
- detector_leak_rate: the offline detector's verdict on the (query, description) pairs;
  for the build, on the first rewrite of each query (before any feedback);
- and for the build only: the leak filter's drop rate, the harm check's keep rate, and
  the share of the accepted pairs a preview release drops as near-duplicates (a query at
  MiniLM cosine >= 0.95 asked of the same scene: image descriptions at cosine >= 0.8).

Prints one JSON object on its last line. Text figures do not depend on the machine; the
build takes a few minutes on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
VLSBENCH_SAMPLE = Path("../shared/reference/vlsbench_dev_sample.json")  # from the folder it runs in, as --data
ISSUE_SAMPLE_SIZE = 172  # the accepted pairs of the build the issue first measured
DRAWS = 200
WORD = re.compile(r"[a-z0-9']+")


def tokens(text: str) -> list[str]:
    return WORD.findall(text.lower().replace("’", "'"))


def top_4gram(texts: list[str]) -> tuple[str, float]:
    counts = Counter()
    for text in texts:
        words = tokens(text)
        counts.update({" ".join(words[i:i + 4]) for i in range(len(words) - 3)})
    phrase, count = counts.most_common(1)[0]
    return phrase, count / len(texts)


def distinct_2(texts: list[str]) -> float:
    pairs = [tuple(words[i:i + 2]) for words in map(tokens, texts) for i in range(len(words) - 1)]
    return len(set(pairs)) / len(pairs)


def sampled_distinct_2(texts: list[str], size: int) -> float | None:
    if len(texts) < size:
        return None
    rng = random.Random(0)
    return round(sum(distinct_2(rng.sample(texts, size)) for _ in range(DRAWS)) / DRAWS, 3)


def text_figures(texts: list[str], sizes: list[int]) -> dict:
    phrase, share = top_4gram(texts)
    return {"queries": len(texts), "top_4gram": phrase, "top_4gram_share": round(share, 3),
            **{f"distinct_2_at_{size}": sampled_distinct_2(texts, size) for size in sizes},
            "mean_words": round(sum(len(tokens(t)) for t in texts) / len(texts), 1)}


def leak_rate(queries: list[str], descriptions: list[str]) -> float:
    from pipeline.detect.detector import LeakInput
    from pipeline.factory import default_detector
    scores = default_detector().score([LeakInput(q, d) for q, d in zip(queries, descriptions)])
    return round(sum(s.leak for s in scores) / len(scores), 3)


def leakless(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, check=True)
    return done.stdout


def build_figures(work: Path, size: int, sizes: list[int]) -> dict:
    from pipeline.lexicon import contains_term
    from pipeline.taxonomy import load_elements

    runs, releases = work / "runs", work / "releases"
    leakless("build", "--no-progress", "--run-id", "bench", "--set", f"run.size={size}",
             "--set", f"run.runs_dir={runs}")
    run = runs / "bench"
    accepted = pd.concat(pd.read_parquet(f, columns=["instruction", "element", "sub_category"])
                         for f in sorted((run / "data").glob("*.parquet")))
    decisions = pd.read_parquet(run / "decisions.parquet")
    ledger = pd.read_parquet(run / "ledger.parquet").set_index("seed_id")
    terms = {(e.sub_category, e.element): e.terms for e in load_elements()}

    leak_filter = decisions[decisions["stage"] == "leak_filter"]
    harm_check = decisions[decisions["stage"] == "harm_check"]
    first = decisions[decisions["stage"].isin(["rewrite", "leak_filter"]) & (decisions["attempt"] == 1)]
    seeds = ledger.loc[leak_filter["seed_id"]]
    keeps_term = [contains_term(text, terms[key])
                  for text, key in zip(leak_filter["text"], zip(seeds["sub_category"], seeds["element"]))]

    leakless("release", str(run), "--name", "bench", "--preview", "--releases-dir", str(releases))
    manifest = json.loads(next(releases.glob("bench-v*/manifest.json")).read_text())
    duplicates = manifest["dropped"]["query_duplicate"]
    return {
        **text_figures(list(accepted["instruction"]), sizes),
        "element_term_share": round(sum(keeps_term) / len(keeps_term), 3),
        "detector_leak_rate_first_rewrite": round(float((first["verdict"] == "drop").mean()), 3),
        "leak_filter_drop_rate": round(float((leak_filter["verdict"] == "drop").mean()), 4),
        "leak_filter_dropped": f"{int((leak_filter['verdict'] == 'drop').sum())} of {len(leak_filter)}",
        "harm_check_keep_rate": round(float((harm_check["verdict"] == "keep").mean()), 4),
        "harm_check_kept": f"{int((harm_check['verdict'] == 'keep').sum())} of {len(harm_check)}",
        "preview_query_duplicate_share": round(duplicates / len(accepted), 4),
        "preview_query_duplicates": f"{duplicates} of {len(accepted)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=20, help="elements per sub-category (20: the whole library)")
    parser.add_argument("--keep", type=Path, help="build into this folder and keep it (default: a temporary one)")
    parser.add_argument("--vlsbench-sample", type=Path, default=VLSBENCH_SAMPLE,
                        help=f"VLSBench's 60 released rows (default: {VLSBENCH_SAMPLE})")
    args = parser.parse_args()
    if not args.vlsbench_sample.is_file():
        print(f"error: {args.vlsbench_sample}: no such file (pass --vlsbench-sample PATH)", file=sys.stderr)
        sys.exit(2)
    sample = json.loads(args.vlsbench_sample.read_text(encoding="utf-8"))
    sizes = [len(sample), ISSUE_SAMPLE_SIZE]
    vlsbench = {**text_figures([row["instruction"] for row in sample], sizes),
                "detector_leak_rate": leak_rate([r["instruction"] for r in sample],
                                                [r["image_description"] for r in sample])}
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        build = build_figures(args.keep, args.size, sizes)
    else:
        with tempfile.TemporaryDirectory() as work:
            build = build_figures(Path(work), args.size, sizes)
    width = max(map(len, build))
    print(f"{'figure':<{width}}  {'leakless offline':>28}  {'VLSBench sample':>28}")
    for key, value in build.items():
        print(f"{key:<{width}}  {str(value):>28}  {str(vlsbench.get(key, '')):>28}")
    print(f"{'detector_leak_rate':<{width}}  {'':>28}  {vlsbench['detector_leak_rate']:>28}")
    print(json.dumps({"size": args.size, "leakless": build, "vlsbench_sample": vlsbench}))


if __name__ == "__main__":
    main()
