"""`leakless select` re-reads the rows it keeps through the hard block, as `release --extend` reads its
carried rows: a row an older version shipped under older rules is dropped from the selected version with
its `guardrail.<rule>` decision, counted in the manifest and named on the card; with every chosen row
blocked, nothing is released."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.hashing import sha256_file
from pipeline.release.subset import write_subset_release
from pipeline.release.verify import guardrail_problems
from pipeline.release.writer import seal
from tests.release.test_release_guardrail import PRIVATE_EDIT
from tests.release.test_subset_release import manifest_of, quick_release, selection


def shipped_under_older_rules(release, blocked: int) -> list[str]:
    """Give the first `blocked` rows a text today's hard block stops and seal the release again, as a
    release made before the rule was tightened would be; returns every row's id, those first."""
    shard = next((release / "data").glob("*.parquet"))
    table = pq.read_table(shard)
    rows = table.to_pylist()
    for row in rows[:blocked]:
        row["instruction"] = PRIVATE_EDIT
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), shard)
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["shards"]:
        entry.update(sha256=sha256_file(release / entry["file"]), bytes=(release / entry["file"]).stat().st_size)
    seal(release, manifest)
    return [row["id"] for row in rows]


def selected_rows(folder) -> list[dict]:
    return [row for shard in sorted((folder / "data").glob("*.parquet")) for row in pq.read_table(shard).to_pylist()]


def test_a_blocked_row_is_dropped_from_the_selected_version_with_its_rule(tmp_path):
    source = quick_release(tmp_path)
    ids = shipped_under_older_rules(source, blocked=1)

    selected = write_subset_release(source, dict.fromkeys(ids, "picked"), selection=selection(source.name))

    rows = selected_rows(selected)
    assert sorted(row["id"] for row in rows) == sorted(ids[1:]) and guardrail_problems(rows) == []
    assert pq.read_table(selected / "dedup_index.parquet")["id"].to_pylist() == sorted(ids[1:])
    manifest = manifest_of(selected)
    assert (manifest["rows"], manifest["dropped"]["guardrail"], manifest["dropped"]["not_selected"]) == (3, 1, 0)
    decisions = pq.read_table(selected / "decisions.parquet").to_pylist()
    assert [(d["item_id"], d["verdict"], d["code"], d["text"]) for d in decisions] == [
        (ids[0], "drop", "guardrail.private_person:street_address",
         "(withheld: guardrail private_person:street_address)")]
    assert not any("Maple" in str(value) for d in decisions for value in d.values())  # the decisions ship too
    card = (selected / "README.md").read_text(encoding="utf-8")
    assert "1 chosen pair(s) were dropped by the guardrail's hard block" in card and "Maple" not in card


def test_a_selection_whose_every_pair_is_blocked_releases_nothing(tmp_path):
    source = quick_release(tmp_path)
    ids = shipped_under_older_rules(source, blocked=2)

    with pytest.raises(ValueError, match=r"every selected pair of bench-v1 is blocked by the guardrail "
                                         r"\(guardrail.private_person:street_address 2\); nothing was released"):
        write_subset_release(source, dict.fromkeys(ids[:2], "picked"), selection=selection(source.name))
    # no bench-v2 and no staging folder; the lock file stays, as after every release
    assert sorted(path.name for path in source.parent.iterdir()) == [".bench.lock", "bench-v1"]
