"""The fingerprint of a small offline build: accepted rows, ids, scores and every seed's end.

`tests/build/test_fingerprint.py` compares a fresh build against the stored file, so a
refactor that changes what the build accepts, or any id or score, fails. Regenerate
the file only for a named, intended change (a detector refit, a new rewriter, a new stage):

    python -m pipeline.testing.fingerprint --write
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import pandas as pd

STORED = Path(__file__).resolve().parents[2] / "tests" / "data" / "build_fingerprint.json"
OVERRIDES = ["run.size=4", "run.batch_size=64",
             "run.sub_categories=['Weapon-Related Violence', 'Cybercrime', 'Adult Content',"
             " 'Identity Theft and Impersonation']"]
DIGITS = 6  # scores are stored to 1e-6: float32 embeddings, float64 calibration
# Another CPU's float32 kernels move a score by less than 1e-6, which can still flip its sixth
# rounded digit (seen on an AMD EPYC against the stored file's machine): scores match within this.
TOLERANCE = 2e-6


def _rounded(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), DIGITS)


def fingerprint() -> dict:
    """Build the small offline run in a temporary folder and describe what it produced."""
    from pipeline.build import build_without_orchestration
    from pipeline.config import load_config

    with tempfile.TemporaryDirectory() as runs:
        config = load_config(None, [*OVERRIDES, f"run.runs_dir='{runs}'"])
        ledger = build_without_orchestration(config, "fingerprint")
        run = Path(runs) / "fingerprint"
        rows = pd.read_parquet(run / "data", columns=["id", "seed_id", "instruction", "leak_score"])
        decisions = pd.read_parquet(run / "decisions.parquet",
                                    columns=["item_id", "stage", "attempt", "verdict", "score"])
    return {
        "overrides": OVERRIDES,
        "rows": sorted(({"id": r.id, "seed_id": r.seed_id, "instruction": r.instruction,
                         "leak_score": _rounded(r.leak_score)} for r in rows.itertuples()),
                       key=lambda row: row["id"]),
        "seeds": {entry.seed_id: entry.state.value for entry in sorted(ledger, key=lambda e: e.seed_id)},
        "decisions": sorted(([d.item_id, d.stage, int(d.attempt), d.verdict, _rounded(d.score)]
                             for d in decisions.itertuples()), key=lambda d: (d[0], d[1], d[2])),
    }


def differences(current: dict, stored: dict) -> list[str]:
    """What differs: overrides, seeds' ends, rows and decisions exactly, scores within TOLERANCE."""
    found = [f"{key} differ" for key in ("overrides", "seeds") if current[key] != stored[key]]
    for name, score_of in (("rows", lambda row: row["leak_score"]), ("decisions", lambda row: row[4])):
        if len(current[name]) != len(stored[name]):
            found.append(f"{name}: {len(current[name])} against {len(stored[name])} stored")
            continue
        for now, then in zip(current[name], stored[name]):
            a, b = score_of(now), score_of(then)
            same_score = a == b or (a is not None and b is not None and abs(a - b) <= TOLERANCE)
            rest_now = {**now, "leak_score": None} if name == "rows" else now[:4]
            rest_then = {**then, "leak_score": None} if name == "rows" else then[:4]
            if rest_now != rest_then or not same_score:
                found.append(f"{name}: {now} against {then} stored")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help=f"overwrite {STORED.name} (intended changes only)")
    args = parser.parse_args()
    current = fingerprint()
    if args.write:
        STORED.write_text(json.dumps(current, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {STORED}: {len(current['rows'])} rows, {len(current['seeds'])} seeds")
    else:
        found = differences(current, json.loads(STORED.read_text(encoding="utf-8")))
        print("\n".join(found) if found else "same as stored")
        raise SystemExit(1 if found else 0)


if __name__ == "__main__":
    main()
