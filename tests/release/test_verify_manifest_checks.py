"""verify's checks of what a release's side files and manifest say against its rows: the counts per
sub-category, the dedup index's ids (not just how many), and the card's licence."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.release.verify import card_problems, index_problems, totals_problems
from pipeline.release.writer import INDEX_FILE

ROWS = [{"id": "a", "category": "Violent", "sub_category": "Weapons"},
        {"id": "b", "category": "Violent", "sub_category": "Threats"}]


def test_counts_per_sub_category_are_held_against_the_rows():
    manifest = {"rows": 2, "counts": {"category": {"Violent": 2},
                                      "sub_category": {"Violent/Weapons": 2}}}

    assert totals_problems(manifest, ROWS) == ["manifest.json: counts per sub_category differ from the shards' rows"]


def test_an_index_listing_other_ids_as_many_as_the_rows_is_a_problem(tmp_path):
    pq.write_table(pa.table({"id": ["a", "c"]}), tmp_path / INDEX_FILE)

    assert index_problems(tmp_path, {"files": []}, ROWS) == [f"{INDEX_FILE}: its ids differ from the shards' rows"]


def test_a_card_naming_another_licence_is_a_problem(tmp_path):
    (tmp_path / "README.md").write_text("---\npretty_name: bench v1\nlicense: mit\ntags: []\ndataset_info:\n"
                                        "  splits:\n  - num_examples: 2\n---\n# bench v1\n", encoding="utf-8")
    manifest = {"name": "bench", "version": 1, "preview": False, "license": "cc-by-4.0", "rows": 2}

    assert card_problems(tmp_path, manifest) == ["README.md: license 'mit', the manifest says 'cc-by-4.0'"]
