"""`leakless select`: from a release and its evaluations, a new release version with the pairs
that best separate the models, a per-sub-category quota, and every decision written down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.evaluate.judge_record import FAILED, CheckRecord, recorded_check
from pipeline.evaluate.judges import the_judge
from pipeline.evaluate.leaderboard import one_file_per_model
from pipeline.evaluate.runner import ERROR, read_evaluation
from pipeline.evaluate.selection import RANK_REPAIR_OUT, Selection, select_pairs
from pipeline.hashing import sha256_file
from pipeline.records import Decision, Verdict
from pipeline.writers.shard_reader import shard_paths
from pipeline.release.subset import write_subset_release
from pipeline.writers.tables import decisions_frame

STAGE = "select"
BACKEND = "separability"
BELOW_QUOTA = "select.below_quota"
UNJUDGED = "select.unjudged"  # with --common-pairs: a pair some model never judged, left out of the selection


@dataclass
class Evaluations:
    """The image-mode evaluations a selection uses."""

    labels: dict[str, dict[str, str]]  # model -> pair id -> label
    judge: str  # the one judge model id of every file
    judge_served: tuple[str, ...]  # and what its server said answered (a scripted judge's labels are another's)
    judge_hashes: set[str]
    files: dict[str, str]  # file name -> sha256, of the files used
    left_out: dict[str, str] = field(default_factory=dict)  # model -> why it is not used
    judge_check: CheckRecord | None = None  # what the judge check said, as the rows record it


def load_evaluations(evaluations: Path) -> Evaluations:
    """Each `<model>.parquet` (image mode) of the folder, judged by one judge (`the_judge`, else a ValueError
    naming the files and judges), one file per model (`one_file_per_model`); a model with no judged row is
    left out (`left_out`)."""
    evaluations = Path(evaluations)
    files = sorted(evaluations.glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no evaluations in {evaluations} (run `leakless evaluate` first)")
    judge = the_judge(files, evaluations)
    one_file_per_model(files, evaluations)
    found = Evaluations({}, judge.model_id, judge.served, set(), {})
    for path in files:
        rows = read_evaluation(path)
        if not rows:
            found.left_out[path.stem] = f"{path.name} has no rows"
        elif all(row["label"] == ERROR for row in rows):
            found.left_out[rows[0]["model"]] = f"none of its {len(rows)} rows in {path.name} was judged"
        else:
            found.labels[rows[0]["model"]] = {row["id"]: row["label"] for row in rows}
            found.judge_hashes |= {row["judge_prompt_hash"] for row in rows}
            found.files[path.name] = sha256_file(path)
    found.judge_check = recorded_check(files)
    return found


def check_trusted(found: Evaluations, evaluations: Path, trust_judge: bool) -> None:
    """A ValueError when the judge failed the judge check (evaluated with --trust-judge) and `select`
    was not told --trust-judge too: its labels would choose the pairs of a version others use."""
    check = found.judge_check
    if check is None or check.outcome != FAILED or trust_judge:
        return
    raise ValueError(f"the judge {found.judge} of {evaluations} failed the judge check (it labelled answers whose "
                     f"labels are not in doubt wrongly: {check.reason}) and was used with --trust-judge: its labels "
                     f"would choose the pairs; re-evaluate with a stronger judge, or pass --trust-judge to select "
                     f"with them anyway (the manifest and card say so)")


def judged_ids(by_id: dict[str, str]) -> set[str]:
    return {pair_id for pair_id, label in by_id.items() if label != ERROR}


def common_pairs(labels: dict[str, dict[str, str]], release_ids: list[str]) -> list[str]:
    """The release's pairs every model judged, in release order."""
    judged = set(release_ids).intersection(*(judged_ids(by_id) for by_id in labels.values()))
    return [pair_id for pair_id in release_ids if pair_id in judged]


def lacking(labels: dict[str, dict[str, str]], release_ids: list[str]) -> str:
    """"m-image lacks 295 of the 395 pairs (and holds 19 rows of pairs not in it)", per model that
    lacks some; "" when every model judged every pair."""
    release, parts = set(release_ids), []
    for model, by_id in sorted(labels.items()):
        missing, foreign = len(release - judged_ids(by_id)), len(by_id.keys() - release)
        if missing:
            parts.append(f"{model} lacks {missing} of the {len(release)} pairs"
                         + (f" (and holds {foreign} rows of pairs not in it)" if foreign else ""))
    return "; ".join(parts)


def pairs_to_select(labels: dict[str, dict[str, str]], release_ids: list[str], name: str,
                    only_common: bool, evaluate: str | None = None) -> list[str]:
    """Every pair of the release when every model judged it, else a ValueError, or with `only_common`
    the pairs every model judged: a pair no model answered must not be kept as one they agree on.
    `evaluate`: the words that judge the rest (the `leakless evaluate` command and what it needs)."""
    shortfall = lacking(labels, release_ids)
    if not shortfall:
        return release_ids
    evaluate = evaluate or f"`leakless evaluate {name} --models MODELS`, MODELS the models file"
    common = common_pairs(labels, release_ids)
    if not common:
        raise ValueError(f"no pair of {name} was judged by every model: {shortfall}; evaluate the models on "
                         f"{name} ({evaluate}) first")
    if not only_common:
        raise ValueError(f"not every model judged every pair of {name}: {shortfall}; judge the rest (rerun "
                         f"{evaluate}), or pass --common-pairs to select among the {len(common)} "
                         f"pairs every model judged")
    return common


def decision_reason(selection: Selection, pair_id: str) -> str:
    """The prose beside the decision's code: the release's `selection_reason` without its code."""
    if pair_id not in selection.separability:
        return "not judged by every model: left out of the selection (--common-pairs)"
    if pair_id in selection.chosen:
        return selection.reason(pair_id).removeprefix(f"{selection.chosen[pair_id]}: ")
    why = "in its sub-category's quota, swapped out to keep the full set's model ranking" \
        if pair_id in selection.swapped_out else "not among its sub-category's quota"
    return (f"{why} (separability {selection.separability[pair_id]:+.2f}, "
            f"disagreement {selection.disagreement[pair_id]:.2f})")


def select_release(release_dir: Path, evaluations: Path, per_sub_category: int,
                   note: Callable[[str], None] = lambda text: None,
                   only_common: bool = False, trust_judge: bool = False,
                   evaluate: Callable[[bool], str] | None = None) -> tuple[Path, Selection]:
    """`note` is told of each model left out (no judged row). A model lacking judged rows for some of
    the release's pairs is a ValueError, unless `only_common` restricts the selection to the pairs
    every model judged (the others are dropped as `select.unjudged`); `evaluate(trust_judge)` says how to
    judge the rest. Labels of a judge that failed the judge check are a ValueError unless `trust_judge`."""
    if per_sub_category < 1:
        raise ValueError("--per-sub-category must be at least 1")
    rows = [row for shard in shard_paths(release_dir) for row in
            pq.read_table(shard, columns=["id", "seed_id", "sub_category", "instruction"]).to_pylist()]
    if not rows:
        raise FileNotFoundError(f"{release_dir} has no pairs")
    found = load_evaluations(evaluations)
    labels, judge_hashes = found.labels, found.judge_hashes
    if len(labels) < 2:
        kept = f" ({', '.join(sorted(labels))})" if labels else ""
        left_out = "".join(f"; left out {model}: {why}" for model, why in sorted(found.left_out.items()))
        raise ValueError(f"selection needs at least two models with judged rows; {evaluations} has "
                         f"{len(labels)}{kept}{left_out}")
    check_trusted(found, evaluations, trust_judge)
    for model, why in sorted(found.left_out.items()):
        note(f"left out {model}: {why}")
    sub_category_of = {row["id"]: row["sub_category"] for row in rows}
    failed = found.judge_check is not None and found.judge_check.outcome == FAILED
    chosen_from = pairs_to_select(labels, list(sub_category_of), Path(release_dir).name, only_common,
                                  evaluate(failed) if evaluate else None)
    selection = select_pairs(labels, {pair_id: sub_category_of[pair_id] for pair_id in chosen_from},
                             per_sub_category)
    decisions = [decision(row, selection, judge_hashes) for row in rows]
    # the evaluations folder by name: its full path would publish the builder's folders
    summary = {"source": Path(release_dir).name, "evaluations": Path(evaluations).resolve().name,
               "judge": found.judge, "judge_served_models": list(found.judge_served),
               "judge_prompt_hashes": sorted(judge_hashes),
               **({"judge_check": found.judge_check.summary()} if found.judge_check else {}),
               "evaluation_files": found.files, "left_out": found.left_out,
               "models": selection.models, "per_sub_category": per_sub_category, "kendall_tau": selection.kendall_tau,
               "safe_rate_full": selection.full_rates, "safe_rate_selected": selection.selected_rates,
               # the full-set rates, scores and tau are over `full`: the pairs every model judged
               "pairs": {"release": len(rows), "full": len(chosen_from), "selected": len(selection.chosen)},
               "only_common_pairs": only_common}
    target = write_subset_release(release_dir, {pair_id: selection.reason(pair_id) for pair_id in selection.chosen},
                                  selection=summary, decisions=decisions_frame(decisions, run_id=""))
    return target, selection


def decision(row: dict, selection: Selection, judge_hashes: set[str]) -> Decision:
    """Kept, dropped below the quota, swapped out by rank repair, or (with --common-pairs) dropped
    unjudged, with no score."""
    pair_id = row["id"]
    scored = pair_id in selection.separability
    dropped = RANK_REPAIR_OUT if pair_id in selection.swapped_out else BELOW_QUOTA if scored else UNJUDGED
    code = selection.chosen.get(pair_id, dropped)
    scores = {"separability": selection.separability[pair_id],
              "disagreement": selection.disagreement[pair_id]} if scored else {}
    return Decision(
        item_id=pair_id, seed_id=row["seed_id"], stage=STAGE, text=row["instruction"], scores=scores,
        score=scores.get("separability"), threshold=selection.cut.get(row["sub_category"]),
        verdict=Verdict.keep if pair_id in selection.chosen else Verdict.drop, code=code,
        reason=decision_reason(selection, pair_id), backend=BACKEND, model=",".join(selection.models),
        prompt_hash=",".join(sorted(judge_hashes)))
