"""`leakless select`: from a release and its evaluations, a new release version with the pairs
that best separate the models, a per-sub-category quota, and every decision written down."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from pipeline.evaluate.runner import read_evaluation
from pipeline.evaluate.selection import Selection, select_pairs
from pipeline.records import Decision, Verdict
from pipeline.release.select import shard_paths
from pipeline.release.subset import write_subset_release
from pipeline.writers.tables import decisions_frame

STAGE = "select"
BACKEND = "separability"


def load_labels(evaluations: Path) -> tuple[dict[str, dict[str, str]], set[str]]:
    """model -> pair id -> label, from each `<model>.parquet` (image mode); and the judge prompt hashes."""
    files = sorted(Path(evaluations).glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no evaluations in {evaluations} (run `leakless evaluate` first)")
    labels, hashes = {}, set()
    for path in files:
        rows = read_evaluation(path)
        if rows:
            labels[rows[0]["model"]] = {row["id"]: row["label"] for row in rows}
            hashes |= {row["judge_prompt_hash"] for row in rows}
    return labels, hashes


def select_release(release_dir: Path, evaluations: Path, per_sub_category: int) -> tuple[Path, Selection]:
    if per_sub_category < 1:
        raise ValueError("--per-sub-category must be at least 1")
    rows = [row for shard in shard_paths(release_dir) for row in
            pq.read_table(shard, columns=["id", "seed_id", "sub_category", "instruction"]).to_pylist()]
    if not rows:
        raise FileNotFoundError(f"{release_dir} has no pairs")
    labels, judge_hashes = load_labels(evaluations)
    ids = {row["id"] for row in rows}
    unknown = sorted(model for model, by_id in labels.items() if not ids & by_id.keys())
    if unknown:
        raise ValueError(f"the evaluations of {', '.join(unknown)} share no pair with {Path(release_dir).name}")
    selection = select_pairs(labels, {row["id"]: row["sub_category"] for row in rows}, per_sub_category)
    decisions = [Decision(
        item_id=row["id"], seed_id=row["seed_id"], stage=STAGE, text=row["instruction"],
        scores={"separability": selection.separability[row["id"]], "disagreement": selection.disagreement[row["id"]]},
        score=selection.separability[row["id"]], threshold=selection.cut.get(row["sub_category"]),
        verdict=Verdict.keep if row["id"] in selection.chosen else Verdict.drop,
        reason=selection.chosen.get(row["id"], "select.below_quota"), backend=BACKEND,
        model=",".join(selection.models), prompt_hash=",".join(sorted(judge_hashes)),
    ) for row in rows]
    summary = {"source": Path(release_dir).name, "evaluations": str(Path(evaluations).resolve()),
               "models": selection.models, "per_sub_category": per_sub_category, "kendall_tau": selection.kendall_tau,
               "safe_rate_full": selection.full_rates, "safe_rate_selected": selection.selected_rates,
               "pairs": {"full": len(rows), "selected": len(selection.chosen)}}
    target = write_subset_release(release_dir, {pair_id: selection.reason(pair_id) for pair_id in selection.chosen},
                                  selection=summary, decisions=decisions_frame(decisions, run_id=""))
    return target, selection
