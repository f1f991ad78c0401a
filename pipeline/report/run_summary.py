"""The audit report's header: a build run's id, detector versions, each stage's thresholds (named for
what they are a threshold of) and backends, and how many items each stage kept and dropped, per
reason code, the hard block's drops included. Computed from the run's stored tables (`audit.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.contracts import GUARDRAIL_PREFIX, StageName
from pipeline.report.audit import LEAK_STAGE, REWRITE_STAGE, RunTables
from pipeline.stages.harm_check import RULE_NUMBERS

NO_CODE = "(none recorded)"  # runs written before decisions carried reason codes


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    detector_versions: list[str]
    thresholds: dict[str, list[float]]  # "stage (what its score is)" -> distinct thresholds (`stage_thresholds`)
    backends: dict[str, list[str]]      # stage -> distinct "backend / model"
    verdicts: pd.DataFrame              # stage x verdict counts
    reasons: pd.DataFrame               # "stage: reason code" x verdict counts, guardrail blocks included


def summarise(tables: RunTables) -> RunSummary:
    decisions = tables.decisions
    run_ids = sorted(decisions["run_id"].dropna().unique()) if "run_id" in decisions else []
    by_stage = decisions.groupby("stage", sort=True)
    return RunSummary(
        run_id=", ".join(run_ids) or tables.run_dir.name,
        detector_versions=sorted(v for v in decisions["detector_version"].dropna().unique() if v),
        thresholds=stage_thresholds(decisions),
        backends={stage: sorted((group["backend"] + " / " + group["model"]).unique()) for stage, group in by_stage},
        verdicts=pd.crosstab(decisions["stage"], decisions["verdict"]),
        reasons=reason_counts(tables),
    )


def stage_thresholds(decisions: pd.DataFrame) -> dict[str, list[float]]:
    """Each stage's distinct thresholds, named with what they are a threshold of: the harm check's
    rules hold numbers that point opposite ways, so each is shown apart (an empty list: a stage
    that no number decides, such as the image check)."""
    numbered = decisions.dropna(subset=["threshold"])
    codes = numbered["code"] if "code" in numbered else [""] * len(numbered)
    names = [threshold_name(stage, code) for stage, code in zip(numbered["stage"], codes)]
    thresholds = {name: sorted(group.unique().tolist())
                  for name, group in numbered["threshold"].groupby(names, sort=True)} if names else {}
    thresholds.update({stage: [] for stage in set(decisions["stage"]) - set(numbered["stage"])})
    return dict(sorted(thresholds.items()))


def threshold_name(stage: str, code: str) -> str:
    if stage in (LEAK_STAGE, REWRITE_STAGE):
        return f"{stage} (leak score: drops at or above it)"
    if stage == StageName.harm_check and code in RULE_NUMBERS:
        return f"{stage} ({RULE_NUMBERS[code]})"
    return stage


def reason_counts(tables: RunTables) -> pd.DataFrame:
    """How many items each filter kept and dropped, per reason code."""
    decisions = tables.decisions
    codes = decisions["code"].replace("", NO_CODE) if "code" in decisions else NO_CODE
    rows = pd.DataFrame({"reason": decisions["stage"] + ": " + codes, "verdict": decisions["verdict"]})
    blocked_path = tables.run_dir / "blocked.parquet"
    if blocked_path.is_file():
        blocked = pd.read_parquet(blocked_path, columns=["stage", "rule"])
        rows = pd.concat([rows, pd.DataFrame({"reason": blocked["stage"] + ": " + GUARDRAIL_PREFIX + blocked["rule"],
                                              "verdict": "drop"})])
    return pd.crosstab(rows["reason"], rows["verdict"]) if len(rows) else pd.DataFrame()
