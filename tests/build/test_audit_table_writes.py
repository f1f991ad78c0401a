"""An audit table whose write fails (a full disk) leaves the table it replaces whole, and no
half-written Parquet file where pandas, polars or DuckDB would read it."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.records import Failure
from pipeline.writers.tables import records_frame, write_frame

FAILURE = Failure(item_id="p1", seed_id="s1", stage="rewrite", error="server down", transient=True)


def test_a_failed_rewrite_keeps_the_earlier_table_whole(tmp_path, monkeypatch):
    path = tmp_path / "failures.parquet"
    write_frame(records_frame([FAILURE], Failure, "r1"), path)

    def disk_full(frame, where, **options):
        with open(where, "wb") as half:
            half.write(b"PAR1 half a table")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", disk_full)
    with pytest.raises(OSError):
        write_frame(records_frame([FAILURE, FAILURE], Failure, "r1"), path)

    monkeypatch.undo()
    assert pq.read_table(path).num_rows == 1
    assert [file.name for file in tmp_path.iterdir()] == ["failures.parquet"]
