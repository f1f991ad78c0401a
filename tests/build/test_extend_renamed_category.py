"""Extend after a category was renamed in taxonomy.toml: an element already built or released under the old
name is used, though its seed id (which holds the category's name) is new; a pool image's seed that shares an
element's name still counts by its own id only, as before."""

from __future__ import annotations

import pandas as pd

from pipeline.extend import load_targets, plan_extension, seed_id
from pipeline.extend_inventory import element_first_id, take_inventory
from pipeline.config import load_config
from pipeline.taxonomy import load_elements
from tests.build.test_extend import write_shard, write_targets

RACIAL = "Racial and Ethnic Discrimination"  # under "Hate" in the shipped taxonomy
LIBRARY = [element for element in load_elements() if element.sub_category == RACIAL]
OLD_NAME = "Bigotry"  # what the lab called "Hate" when it built and released the first elements


def seed_row(element, category: str = OLD_NAME) -> dict:
    return {"seed_id": element_first_id(category, RACIAL, element.element), "category": category,
            "sub_category": RACIAL, "element": element.element}


def released(releases, rows: list[dict]) -> None:
    write_shard(releases / "lab-v1", [{"id": f"p{n}", **row} for n, row in enumerate(rows)], review_state="accepted")


def built(runs, run_id: str, rows: list[dict]) -> None:
    """A finished run whose ledger names each seed (a real ledger's columns); one pair, pending."""
    write_shard(runs / run_id, [{"id": f"{run_id}-0", **rows[0]}])
    pd.DataFrame([{**row, "state": "accepted", "accepted_pairs": 1} for row in rows]).to_parquet(
        runs / run_id / "ledger.parquet")


def plan_row(tmp_path, runs, releases):
    targets = load_targets(write_targets(tmp_path / "t.toml", runs, releases, {RACIAL: 40}))
    (row,) = plan_extension(targets, load_config(), take_inventory(runs, releases, "lab")).rows
    return row


def test_elements_released_or_built_under_the_old_category_name_are_used(tmp_path):
    runs, releases = tmp_path / "runs", tmp_path / "releases"
    released(releases, [seed_row(LIBRARY[0])])
    built(runs, "lab3", [seed_row(LIBRARY[1]), seed_row(LIBRARY[2])])
    assert seed_id(LIBRARY[0]) != element_first_id(OLD_NAME, RACIAL, LIBRARY[0].element)  # the rename's new id
    row = plan_row(tmp_path, runs, releases)
    assert row.unused == len(LIBRARY) - 3
    assert [e.element for e in row.elements] == [e.element for e in LIBRARY[3:]]


def test_a_pool_seed_sharing_an_elements_name_counts_by_its_own_id(tmp_path):
    runs, releases = tmp_path / "runs", tmp_path / "releases"
    pool_seed = {**seed_row(LIBRARY[0], category="Hate"), "seed_id": "a-pool-image-seed"}
    built(runs, "pool", [pool_seed])
    row = plan_row(tmp_path, runs, releases)
    assert row.unused == len(LIBRARY)
    assert row.elements[0].element == LIBRARY[0].element
