"""Mutation round 14's pins on the run's shard manifest (each test fails with its mutant)."""

from __future__ import annotations

import json

from pipeline.writers.shards import write_manifest, write_shards
from tests.support.release_runs import pair_row


def test_the_run_manifest_counts_each_sub_category_under_its_category(tmp_path):
    # W2: counted by the sub-category's name alone, two categories' sub-categories of one name were merged
    rows = [{**pair_row(0, "r1"), "category": "Violent", "sub_category": "Other"},
            {**pair_row(1, "r1"), "category": "Illegal Activity", "sub_category": "Other"},
            {**pair_row(2, "r1"), "category": "Violent", "sub_category": "Weapons"}]
    paths = write_shards(rows, tmp_path / "data", rows_per_shard=10)

    write_manifest(tmp_path / "manifest.json", rows=rows, shards=paths, config={})

    counts = json.loads((tmp_path / "manifest.json").read_text())["counts"]
    assert counts == {"category": {"Illegal Activity": 1, "Violent": 2},
                      "sub_category": {"Illegal Activity/Other": 1, "Violent/Other": 1, "Violent/Weapons": 1}}
