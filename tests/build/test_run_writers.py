"""The run writers: a harm check checkpointed under the old signal name is written under the current
one, and rewriting a run's shards leaves none of the earlier shards behind."""

from __future__ import annotations

import pyarrow.parquet as pq

from pipeline.records import Decision, Verdict
from pipeline.writers.shards import write_shards
from pipeline.writers.tables import decisions_frame
from tests.support.release_runs import pair_row


def test_an_old_harm_check_signal_is_written_under_its_current_name():
    old = Decision(item_id="p", seed_id="s", stage="harm_check", text="q", reason="test", verdict=Verdict.keep,
                   backend="rules", model="m", prompt_hash="", scores={"text_harm": 0.4, "intent": 0.7})

    frame = decisions_frame([old], "r1")

    assert frame.loc[0, "signal_harm_cue"] == 0.4
    assert "signal_text_harm" not in frame.columns


def test_rewriting_shards_leaves_no_earlier_shard(tmp_path):
    out = tmp_path / "data"
    write_shards([pair_row(i, "r1") for i in range(3)], out, rows_per_shard=1)

    paths = write_shards([pair_row(0, "r1")], out, rows_per_shard=1)

    assert sorted(path.name for path in out.glob("*.parquet")) == ["train-00000-of-00001.parquet"]
    assert sum(pq.ParquetFile(path).metadata.num_rows for path in paths) == 1
