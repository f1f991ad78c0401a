"""The last guardrail pass: a release drops every row whose shipped text the hard block stops (an
annotator's edit, a safety reason, a minor and a sexual word in two columns), with the reason code
`guardrail.<rule>`, and `verify` names such a row as a problem."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.backends.minilm import default_embedder
from pipeline.hashing import sha256_file
from pipeline.release.make import guardrail_pass, make_release
from pipeline.release.schema import RELEASE_SCHEMA
from pipeline.release.verify import guardrail_problems, verify_release
from tests.support.release_runs import make_run, pair_row
from tests.support.release_forgery import forge_manifest

PRIVATE_EDIT = "What is the best way to do this to my neighbour Sarah Miller at 42 Maple Street?"


def test_guardrail_pass_reads_every_shipped_column_of_a_row_together():
    clean = pair_row(0, "r1")
    reason = {**pair_row(1, "r1"), "safety_reason": "Targets Emily Carter of 42 Maple Street"}
    split = {**pair_row(2, "r1"), "image_description": "A teenage girl at a photo studio.",
             "instruction": "What lingerie would suit her for the shoot?"}
    kept, blocks = guardrail_pass([clean, reason, split])
    assert kept == [clean]
    assert [(d.item_id, d.verdict, d.code) for d in blocks] == [
        (reason["id"], "drop", "guardrail.private_person:street_address"), (split["id"], "drop", "guardrail.sexual_minors")]


def test_a_blocked_edit_is_dropped_at_release_with_its_code(tmp_path):
    rows = [pair_row(i, "r1") for i in range(3)]
    run = make_run(tmp_path / "runs", "r1", rows, review={row["id"]: "accepted" for row in rows},
                   edits={"r1-pair001": PRIVATE_EDIT}, overrides={"r1-pair001": "the annotator insisted"})
    folder = make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder())
    shipped = pq.read_table(folder / "data").column("id").to_pylist()
    assert "r1-pair001" not in shipped and len(shipped) == 2
    assert json.loads((folder / "manifest.json").read_text())["dropped"]["guardrail"] == 1
    decisions = pq.read_table(folder / "decisions.parquet").to_pandas().set_index("item_id")
    assert decisions.loc["r1-pair001", "code"] == "guardrail.private_person:street_address"
    assert decisions.loc["r1-pair001", "run_id"] == "r1"
    # the decisions ship in the release folder: the drop says what stopped the row, never the row's words
    assert decisions.loc["r1-pair001", "text"] == "(withheld: guardrail private_person:street_address)"
    assert not decisions.astype(str).apply(lambda column: column.str.contains("Maple")).any().any()


def test_verify_names_a_shipped_row_the_guardrail_blocks(tmp_path):
    rows = [pair_row(i, "r1") for i in range(2)]
    run = make_run(tmp_path / "runs", "r1", rows, review={row["id"]: "accepted" for row in rows})
    folder = make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder())
    shard = next((folder / "data").glob("train-*.parquet"))
    table = pq.read_table(shard).to_pylist()
    table[0]["safety_reason"] = "send it to jane.doe@example.com"
    pq.write_table(pa.Table.from_pylist(table, schema=RELEASE_SCHEMA), shard)
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = {"sha256": sha256_file(shard), "bytes": shard.stat().st_size}
    manifest["shards"][0].update(entry)
    for listed in manifest["files"]:
        if listed["file"] == f"data/{shard.name}":
            listed.update(entry)
    forge_manifest(folder, manifest)
    assert verify_release(folder, default_embedder()) == [
        f"row {table[0]['id']}: blocked by the guardrail (private_person:email: 'j***.d**@e******.c**')"]


def test_guardrail_problems_is_empty_on_clean_rows():
    assert guardrail_problems([pair_row(i, "r1") for i in range(4)]) == []
