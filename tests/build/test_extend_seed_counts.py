"""How many seeds an extend plans per sub-category: the observed yield per seed, its bounds, and the
rounding that keeps a partial pair from going unbuilt."""

from __future__ import annotations

from collections import Counter

from pipeline.config import load_config
from pipeline.extend import Targets, pairs_per_seed, plan_extension
from pipeline.extend_inventory import Inventory

WEAPONS = "Weapon-Related Violence"


def test_with_no_finished_run_every_query_of_a_seed_is_expected_to_pass():
    assert pairs_per_seed(Inventory(), queries_per_seed=3) == 3.0


def test_the_observed_yield_is_kept_between_one_and_the_queries_per_seed():
    assert pairs_per_seed(Inventory(seeds_built=4, pairs_built=6), queries_per_seed=3) == 1.5
    assert pairs_per_seed(Inventory(seeds_built=4, pairs_built=1), queries_per_seed=3) == 1.0
    assert pairs_per_seed(Inventory(seeds_built=1, pairs_built=9), queries_per_seed=3) == 3.0


def test_a_first_extend_plans_a_seed_per_queries_per_seed_pairs_rounded_up(tmp_path):
    """7 pairs missing at 3 pairs a seed is 3 seeds: 2 would leave the target one pair short."""
    targets = Targets(name="bench", targets={WEAPONS: 7}, runs_dir=tmp_path / "runs", releases_dir=tmp_path / "rel")
    (row,) = plan_extension(targets, load_config(None, ["run.queries_per_seed=3"]), Inventory()).rows
    assert (row.missing, row.seeds_wanted, len(row.elements)) == (7, 3, 3)


def test_pending_pairs_count_against_the_target(tmp_path):
    targets = Targets(name="bench", targets={WEAPONS: 7}, runs_dir=tmp_path / "runs", releases_dir=tmp_path / "rel")
    inventory = Inventory(released=Counter({WEAPONS: 2}), pending=Counter({WEAPONS: 3}))
    (row,) = plan_extension(targets, load_config(None, ["run.queries_per_seed=3"]), inventory).rows
    assert (row.missing, row.seeds_wanted) == (2, 1)
