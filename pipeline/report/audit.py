"""A build run's filter decisions, summarised for audit: every number the audit report shows below its header.

Everything here is computed from the stored tables only. In particular the
threshold sweep re-decides the final leak decisions from their stored scores,
which is why the leak filter keeps scores apart from verdicts: nothing is
re-scored, so the sweep is exact and instant. The report's header (run, thresholds, backends,
verdict and reason counts per stage) is `run_summary.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.contracts import StageName
from pipeline.report.overrides import human_overrides
from pipeline.review.agreement import cohen_kappa
from pipeline.review.importer import reviewed_pairs
from pipeline.rundir import RunDir
from pipeline.stages.leak_filter import JUDGE_SIGNAL

LEAK_STAGE = StageName.leak_filter
REWRITE_STAGE = StageName.rewrite
JUDGE_COLUMN = f"signal_{JUDGE_SIGNAL}"
UNKNOWN_CATEGORY = "(no ledger entry)"
HISTOGRAM_BINS = 20
SWEEP_STEP = 0.05
NEAREST = 25


@dataclass(frozen=True)
class RunTables:
    run_dir: Path
    decisions: pd.DataFrame     # every decision, with its seed's category joined on
    review: pd.DataFrame | None  # the imported human review, None before `leakless review import`

    @property
    def final(self) -> pd.DataFrame:
        """The last leak-filter decision per pair: the verdict that let a pair through or not."""
        leak = self.decisions[self.decisions["stage"] == LEAK_STAGE]
        return leak.sort_values("attempt").groupby("item_id").tail(1).reset_index(drop=True)


def load_run(run_dir: Path) -> RunTables:
    run_dir = Path(run_dir)
    path = run_dir / "decisions.parquet"
    if not path.is_file():
        raise FileNotFoundError(without_decisions(run_dir))
    # a run made before its empty decisions were typed stores untyped columns; the numbers below need numeric ones
    decisions = pd.read_parquet(path).astype({"score": float, "threshold": float, "attempt": int})
    ledger_path = run_dir / "ledger.parquet"
    if ledger_path.is_file():
        categories = pd.read_parquet(ledger_path, columns=["seed_id", "category"]).drop_duplicates("seed_id")
        decisions = decisions.merge(categories, on="seed_id", how="left")
    else:
        decisions["category"] = None
    decisions["category"] = decisions["category"].fillna(UNKNOWN_CATEGORY)
    try:
        review = reviewed_pairs(run_dir)
    except FileNotFoundError:
        review = None
    return RunTables(run_dir=run_dir, decisions=decisions, review=review)


def without_decisions(run_dir: Path) -> str:
    """Why a folder has no decisions.parquet: a build writes it when it finishes, so a run that was
    claimed (it has its config) and has none is still running or was stopped."""
    resolved = Path(run_dir).resolve()  # "." (audit-report run inside the run folder) has no name
    try:
        run = RunDir(resolved.parent, resolved.name)
    except ValueError:  # no run id's shape: no run folder either
        return f"{run_dir} has no decisions.parquet (is it a build run folder?)"
    if not run.config_record.is_file():
        return f"{run_dir} has no decisions.parquet (is it a build run folder?)"
    return (f"run {run.run_id} is unfinished (no decisions.parquet yet): resume it with "
            f"`leakless build --run-id {run.run_id}` and the config and --set options it was started with "
            f"(its config.json), then rerun audit-report")


def leaks_at(final: pd.DataFrame, threshold: float) -> np.ndarray:
    """Which final decisions the leak filter would drop at `threshold`: the rule of
    `LeakFilterStage.verdict`, where the VSIL judge saying "leaks" drops at any threshold."""
    scores = final["score"].to_numpy(dtype=float)
    judged = final[JUDGE_COLUMN].to_numpy(dtype=float) == 1.0 if JUDGE_COLUMN in final else False
    return (scores >= threshold) | judged


# --- score histograms -------------------------------------------------------------------------

@dataclass(frozen=True)
class Histogram:
    category: str
    edges: list[float]        # HISTOGRAM_BINS + 1 bin edges over [0, 1]
    kept: list[int]
    dropped: list[int]
    thresholds: list[float]

    @property
    def total(self) -> int:
        return sum(self.kept) + sum(self.dropped)


def score_histograms(final: pd.DataFrame, bins: int = HISTOGRAM_BINS) -> list[Histogram]:
    """Per category, final leak scores binned over [0, 1], kept and dropped counted apart."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    histograms = []
    for category, group in final.groupby("category", sort=True):
        scores = group["score"].to_numpy(dtype=float).clip(0.0, 1.0)
        dropped = (group["verdict"] != "keep").to_numpy()
        histograms.append(Histogram(
            category=category, edges=edges.tolist(),
            kept=np.histogram(scores[~dropped], edges)[0].tolist(),
            dropped=np.histogram(scores[dropped], edges)[0].tolist(),
            thresholds=sorted(group["threshold"].dropna().unique().tolist())))
    return histograms


# --- threshold sweep --------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepRow:
    threshold: float
    kept: int
    dropped: int
    newly_dropped: int  # kept by the run, dropped at this threshold
    newly_kept: int     # dropped by the run, kept at this threshold
    shipped: bool

    @property
    def flips(self) -> int:
        return self.newly_dropped + self.newly_kept


def threshold_sweep(final: pd.DataFrame, step: float = SWEEP_STEP) -> list[SweepRow]:
    """The final leak decisions re-decided at thresholds 0, step, ..., 1 and at the shipped ones."""
    if not 0 < step <= 1:  # False for NaN too; 0 divided by zero, a negative step gave an empty grid
        raise ValueError(f"a sweep step is a number in (0, 1], not {step!r}")
    shipped = set(final["threshold"].dropna().astype(float))  # exact: a rounded one re-decides ties otherwise
    grid = {float(value) for value in np.round(np.arange(0.0, 1.0 + step / 2, step), 6)} | shipped
    was_dropped = (final["verdict"] != "keep").to_numpy()
    rows = []
    for threshold in sorted(grid):
        dropped = leaks_at(final, threshold)
        rows.append(SweepRow(threshold=float(threshold), kept=int((~dropped).sum()), dropped=int(dropped.sum()),
                             newly_dropped=int((dropped & ~was_dropped).sum()),
                             newly_kept=int((~dropped & was_dropped).sum()), shipped=threshold in shipped))
    return rows


# --- items nearest the threshold --------------------------------------------------------------

def nearest_threshold(final: pd.DataFrame, count: int = NEAREST) -> pd.DataFrame:
    """The `count` final decisions whose score is closest to their threshold (either side),
    ordered by signed distance, so the flip line runs through the middle of the table.
    `signals` holds each row's non-zero detector signals, the evidence behind its score."""
    scored = final.dropna(subset=["score", "threshold"]).assign(
        distance=lambda frame: frame["score"] - frame["threshold"])
    closest = scored.loc[scored["distance"].abs().nsmallest(count).index]
    signal_columns = [column for column in closest  # the per-score thresholds are not evidence
                      if column.startswith("signal_") and not column.endswith("_threshold")]
    closest["signals"] = [{column.removeprefix("signal_"): value for column, value in row.items()
                           if pd.notna(value) and value != 0}
                          for row in closest[signal_columns].to_dict("records")]
    return closest.sort_values("distance").reset_index(drop=True)


# --- rewrite attempts -------------------------------------------------------------------------

@dataclass(frozen=True)
class Attempts:
    by_attempt: pd.DataFrame  # attempts used x final verdict
    unfinished: int           # pairs with rewrite attempts but no final decision (error or guardrail block)


def rewrite_attempts(tables: RunTables) -> Attempts:
    final = tables.final
    rewritten = tables.decisions.loc[tables.decisions["stage"] == REWRITE_STAGE, "item_id"]
    return Attempts(by_attempt=pd.crosstab(final["attempt"], final["verdict"]),
                    unfinished=len(set(rewritten) - set(final["item_id"])))


# --- agreement with human review --------------------------------------------------------------

FILTER_LABEL = {"keep": "accept", "drop": "reject"}
REVIEW_LABEL = {"accepted": "accept", "rejected": "reject"}
# The one reject reason of `pipeline.review.store.Reason` about leakage: a pair rejected as
# low_quality or image_mismatch says nothing of the leak filter's verdict.
LEAK_REASON = "still_leaks"
LEAK_REJECTED = "rejected: still_leaks"
EDITED = "accepted with an edit"
OTHER_REJECT = "rejected for another reason"
NO_LEAK_DECISION = "no leak decision"


@dataclass(frozen=True)
class ReviewAgreement:
    confusion: pd.DataFrame     # filter verdict x review (accepted / rejected: still_leaks)
    compared: int
    agreed: int
    kappa: float | None         # None where undefined (one label throughout on both sides)
    other_states: dict[str, int]  # edited / other rejects / skipped / conflict / unreviewed / no leak decision
    disagreements: pd.DataFrame   # keep + leak reject: the filter's misses; drop + accept: its over-drops
    other_rejects: pd.DataFrame   # rejected for a reason other than a leak, with a leak verdict
    overrides: pd.DataFrame       # edits kept against the leak or harm check's warning, with the reason

    @property
    def rate(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


def review_agreement(tables: RunTables) -> ReviewAgreement | None:
    """The leak filter's final verdict against the reviewers' state, pair by pair: a keep counts
    as an accept and a drop as a reject. Only the reviews that speak of the filter's query and of
    leakage are compared: an accept of the pipeline's own query, a reject for `still_leaks`."""
    if tables.review is None:
        return None
    final = tables.final.rename(columns={"reason": "filter_reason"})
    columns = ["id", "review_state", "reason", "annotators"] + (["edited"] if "edited" in tables.review else [])
    review = tables.review[columns].fillna({"reason": ""})
    joined = review.merge(final, left_on="id", right_on="item_id", how="left")
    joined["review_group"] = review_groups(joined)
    compared = joined[joined["review_group"].isin(["accepted", LEAK_REJECTED])]
    ratings = [(FILTER_LABEL[v], REVIEW_LABEL[s]) for v, s in zip(compared["verdict"], compared["review_state"])]
    agrees = np.array([a == b for a, b in ratings], dtype=bool)
    other_states = joined.loc[~joined.index.isin(compared.index), "review_group"].value_counts()
    other_rejects = joined[(joined["review_group"] == OTHER_REJECT) & joined["verdict"].notna()]
    return ReviewAgreement(
        confusion=pd.crosstab(compared["verdict"], compared["review_group"]),
        compared=len(ratings), agreed=int(agrees.sum()), kappa=cohen_kappa(ratings),
        other_states={str(state): int(count) for state, count in other_states.items()},
        disagreements=compared[~agrees].reset_index(drop=True), other_rejects=other_rejects.reset_index(drop=True),
        overrides=human_overrides(tables.review, tables.run_dir))


def review_groups(joined: pd.DataFrame) -> pd.Series:
    """Per reviewed pair, what its review says of the filter's verdict: "accepted" and
    LEAK_REJECTED are compared with it; an edit ships a text the filter never judged, and any
    other reject or state is counted apart (a review imported before edits were kept has none)."""
    edited = joined["edited"].fillna(False).astype(bool) if "edited" in joined else False
    leak_reject = joined["reason"].str.split("; ").map(lambda reasons: LEAK_REASON in reasons)
    state = joined["review_state"]
    groups = state.mask(state.eq("accepted") & edited, EDITED)
    groups = groups.mask(state.eq("rejected"), np.where(leak_reject, LEAK_REJECTED, OTHER_REJECT))
    return groups.mask(joined["verdict"].isna(), NO_LEAK_DECISION)
