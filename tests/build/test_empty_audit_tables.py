"""A run with no blocks or failures writes the same Parquet schema as one with rows.

An empty table used to store every column as Arrow `null`: polars refused `filter(col("transient"))`
and `str.contains`, and `pa.concat_tables` of a clean run's failures with another run's failed."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.records import Blocked, Failure, LedgerEntry
from pipeline.writers.tables import records_frame, write_frame

ROWS = {
    Failure: Failure(item_id="p1", seed_id="s1", stage="rewrite", error="server down", transient=True),
    Blocked: Blocked(item_id="p1", seed_id="s1", stage="seed", rule="sexual_minors", matched="x"),
    LedgerEntry: LedgerEntry(seed_id="s1", category="c", sub_category="d", element="e", state="accepted",
                             stage="export", reason="-", accepted_pairs=2),
}


@pytest.mark.parametrize("model", list(ROWS), ids=lambda model: model.__name__)
def test_an_empty_table_has_the_schema_of_a_full_one(tmp_path, model):
    empty, full = tmp_path / "empty.parquet", tmp_path / "full.parquet"
    write_frame(records_frame([], model, "r1"), empty)
    write_frame(records_frame([ROWS[model]], model, "r1"), full)
    empty_schema, full_schema = pq.read_schema(empty), pq.read_schema(full)
    assert empty_schema.equals(full_schema, check_metadata=False), (empty_schema, full_schema)
    assert not any(pa.types.is_null(field.type) for field in empty_schema)
    pa.concat_tables([pq.read_table(empty), pq.read_table(full)])  # a dataset of runs reads as one


def test_the_failures_columns_are_typed(tmp_path):
    path = tmp_path / "failures.parquet"
    write_frame(records_frame([], Failure, "r1"), path)
    schema = pq.read_schema(path)
    assert pa.types.is_boolean(schema.field("transient").type)
    assert all(pa.types.is_string(schema.field(name).type) or pa.types.is_large_string(schema.field(name).type)
               for name in ("item_id", "seed_id", "stage", "error", "run_id"))



def test_a_run_without_decisions_writes_them_typed_as_one_with_decisions(tmp_path):
    """Every seed failed or blocked: its decisions.parquet did not concatenate with another run's."""
    from pipeline.records import Decision, Verdict
    from pipeline.writers.tables import decisions_frame, write_decisions

    decision = Decision(item_id="p1", seed_id="s1", stage="leak_filter", verdict=Verdict.drop, code="leak.reveal",
                        reason="r", backend="offline-detector", model="m", prompt_hash="", score=0.9, threshold=0.5,
                        spans=("pistol",), element_terms=("handgun",))
    empty, full = tmp_path / "empty.parquet", tmp_path / "full.parquet"
    write_decisions(decisions_frame([], "r1"), empty)
    write_decisions(decisions_frame([decision], "r2"), full)
    empty_schema = pq.read_schema(empty)
    assert not any(pa.types.is_null(field.type) for field in empty_schema), empty_schema
    both = pa.concat_tables([pq.read_table(empty), pq.read_table(full)])
    assert both.num_rows == 1 and both.column("spans").to_pylist() == [["pistol"]]
