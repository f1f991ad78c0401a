"""The run's audit tables (decisions, ledger, blocked, failures) as Parquet, queryable with pandas or DuckDB."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.records import Decision, Record
from pipeline.storage import atomic_path


def decisions_frame(decisions: list[Decision], run_id: str) -> pd.DataFrame:
    """One row per decision; each signal gets its own `signal_<name>` column."""
    rows = []
    for decision in decisions:
        row = decision.model_dump(mode="json", exclude={"scores"})
        row["spans"] = list(decision.spans)
        row.update({f"signal_{name}": value for name, value in decision.scores.items()})
        row["run_id"] = run_id
        rows.append(row)
    columns = list(Decision.model_fields) + ["run_id"]
    columns.remove("scores")
    return pd.DataFrame(rows, columns=None if rows else columns)


def records_frame(records: list[Record], model: type[Record], run_id: str) -> pd.DataFrame:
    rows = [{**record.model_dump(mode="json"), "run_id": run_id} for record in records]
    return pd.DataFrame(rows, columns=list(model.model_fields) + ["run_id"])


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as temporary:
        frame.to_parquet(temporary, index=False)
