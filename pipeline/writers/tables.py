"""The run's audit tables (decisions, ledger, blocked, failures) as Parquet, queryable with pandas or DuckDB."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import get_args

import pandas as pd
import pyarrow as pa

from pipeline.contracts import StageName
from pipeline.records import Decision, Record, Verdict
from pipeline.storage import atomic_path


def decisions_frame(decisions: list[Decision], run_id: str) -> pd.DataFrame:
    """One row per decision; each signal gets its own `signal_<name>` column."""
    rows = []
    for decision in decisions:
        row = decision.model_dump(mode="json", exclude={"scores"})
        row["spans"] = list(decision.spans)
        row.update({f"signal_{name}": value for name, value in signals_of(decision).items()})
        row["run_id"] = run_id
        rows.append(row)
    columns = list(Decision.model_fields) + ["run_id"]
    columns.remove("scores")
    return pd.DataFrame(rows, columns=None if rows else columns)


def signals_of(decision: Decision) -> dict[str, float]:
    """A decision's scores by their current names: a harm check checkpointed before its harm cue was
    named `harm_cue` called it `text_harm`, the leak filter's name for the detector's score."""
    if decision.stage != StageName.harm_check or "text_harm" not in decision.scores:
        return decision.scores
    return {("harm_cue" if name == "text_harm" else name): value for name, value in decision.scores.items()}


def records_frame(records: list[Record], model: type[Record], run_id: str) -> pd.DataFrame:
    rows = [{**record.model_dump(mode="json"), "run_id": run_id} for record in records]
    return pd.DataFrame(rows, columns=list(model.model_fields) + ["run_id"]) if rows else empty_frame(model)


# Without rows pandas cannot tell a column's type, and Parquet then stores it as `null`, which polars
# will not filter and pyarrow will not concatenate with another run's typed table: typed from the record.
_DTYPES = {bool: "bool", int: "int64", float: "float64"}


def empty_frame(model: type[Record]) -> pd.DataFrame:
    """No rows, and the columns (with `run_id`) typed as a frame of `model` records with rows stores them."""
    columns = {name: pd.Series(dtype=_dtype(field.annotation)) for name, field in model.model_fields.items()}
    return pd.DataFrame({**columns, "run_id": pd.Series(dtype="str")})


def _dtype(annotation) -> str:
    kinds = [kind for kind in get_args(annotation) or (annotation,) if kind is not type(None)]
    return _DTYPES.get(kinds[0], "str")  # text, an enum's value, a Literal's


def write_decisions(frame: pd.DataFrame, path: Path) -> None:
    """`decisions_frame`'s rows; with none (every seed failed or was blocked), typed as a file with rows is."""
    typed = _typed_decisions()
    write_frame(frame, path, schema=None if len(frame) else pa.schema([typed.field(name) for name in frame.columns]))


@lru_cache(maxsize=1)
def _typed_decisions() -> pa.Schema:
    one = Decision(item_id="", seed_id="", stage="", verdict=Verdict.keep, code="", reason="", backend="", model="",
                   prompt_hash="", score=0.0, threshold=0.0, spans=("",), element_terms=("",))
    return pa.Table.from_pandas(decisions_frame([one], run_id=""), preserve_index=False).schema


def write_frame(frame: pd.DataFrame, path: Path, schema: pa.Schema | None = None) -> None:
    with atomic_path(path) as temporary:
        frame.to_parquet(temporary, index=False, schema=schema)
