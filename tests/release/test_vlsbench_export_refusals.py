"""export-vlsbench refuses what VLSBench's layout would hide: a release whose rows are unreviewed though its
manifest says it is no preview, and two rows of one instruction_id (one image would replace the other)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.release.make import make_release
from pipeline.release.vlsbench import export_vlsbench
from tests.release.test_release_make import FixedDetector
from tests.release.test_subset_release import EveryTextItsOwnAxis, PassesEverything
from tests.support.release_runs import QUERIES, make_run, pair_row


def quick_release(tmp_path, *, preview: bool):
    rows = [pair_row(i, "r1") for i in range(3)]
    review = None if preview else {row["id"]: "accepted" for row in rows}
    run = make_run(tmp_path / "runs", "r1", rows, review=review)
    return make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=EveryTextItsOwnAxis(),
                        preview=preview, checker=PassesEverything(),
                        detector=FixedDetector(dict.fromkeys(QUERIES, 0.1)))


def test_unreviewed_rows_are_a_preview_whatever_the_manifest_says(tmp_path):
    release = quick_release(tmp_path, preview=True)
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    (release / "manifest.json").write_text(json.dumps({**manifest, "preview": False}), encoding="utf-8")

    with pytest.raises(ValueError, match="is a preview release of unreviewed pairs"):
        export_vlsbench(release, tmp_path / "export")


def test_two_rows_of_one_instruction_id_are_refused(tmp_path):
    release = quick_release(tmp_path, preview=False)
    shard = next((release / "data").glob("*.parquet"))
    table = pq.read_table(shard)
    same = pa.array([table["instruction_id"][0].as_py()] * table.num_rows, table.schema.field("instruction_id").type)
    pq.write_table(table.set_column(table.schema.get_field_index("instruction_id"), "instruction_id", same), shard)

    with pytest.raises(ValueError, match="appears twice"):
        export_vlsbench(release, tmp_path / "export")
