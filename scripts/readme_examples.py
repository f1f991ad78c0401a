"""Put five random accepted pairs of a fresh `make run` build into README.md.

    python scripts/readme_examples.py              # build as `make run` does, into a temporary folder
    python scripts/readme_examples.py --run DIR    # take the pairs of an existing run folder

The pairs are drawn with a fixed random seed from every accepted pair of the run
(not picked by hand), and the table between the README's two marker comments is
replaced; `--check` only says whether the README is up to date (exit 1 if not).
The slow test tests/test_readme_examples.py runs `--check`.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START, END = "<!-- readme_examples:start -->", "<!-- readme_examples:end -->"
COUNT, SEED = 5, 0


def accepted_pairs(run: Path) -> pd.DataFrame:
    columns = ["id", "sub_category", "image_description", "original_query", "instruction"]
    shards = sorted((run / "data").glob("*.parquet"))
    if not shards:
        raise SystemExit(f"error: {run} has no accepted pairs (data/*.parquet)")
    return pd.concat(pd.read_parquet(s, columns=columns) for s in shards).sort_values("id", ignore_index=True)


def table(pairs: pd.DataFrame, run_name: str) -> str:
    rows = random.Random(SEED).sample(range(len(pairs)), COUNT)
    cell = lambda text: text.replace("|", "\\|")  # noqa: E731
    lines = [f"Five of the {len(pairs)} accepted pairs of a fresh `make run` (drawn at random by "
             f"`scripts/readme_examples.py`, run `{run_name}`; the image is a placeholder card "
             "showing the description):", "",
             "| sub-category | image description | query before rewriting | leakless query |",
             "|---|---|---|---|"]
    for row in pairs.iloc[sorted(rows)].itertuples():
        lines.append(f"| {row.sub_category} | {cell(row.image_description)} | "
                     f"{cell(row.original_query)} | **{cell(row.instruction)}** |")
    return "\n".join(lines)


def build(runs: Path) -> Path:
    # The same command `make run` runs, with its default config; its Prefect database is thrown
    # away with the run rather than left in the repository's artifacts/prefect.
    env = {**os.environ, "PREFECT_HOME": str(runs / "prefect")}
    subprocess.run([sys.executable, "-m", "pipeline.cli", "build", "--no-progress", "--run-id", "readme",
                    "--set", f"run.runs_dir={runs}"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return runs / "readme"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="an existing run folder (default: build one)")
    parser.add_argument("--check", action="store_true", help="exit 1 when README.md would change")
    args = parser.parse_args()
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"error: README.md lacks the markers {START} and {END}")
    with tempfile.TemporaryDirectory() as runs:
        run = args.run or build(Path(runs))
        block = table(accepted_pairs(run), "readme" if args.run is None else run.name)
    head, rest = text.split(START, 1)
    updated = f"{head}{START}\n{block}\n{END}{rest.split(END, 1)[1]}"
    if args.check:
        raise SystemExit(0 if updated == text else 1)
    README.write_text(updated, encoding="utf-8")
    print(block)


if __name__ == "__main__":
    main()
