"""A run's seeds split into batches: every seed in exactly one batch, in plan order, and a batch's
id (its checkpoints' name) follows every seed it holds."""

from __future__ import annotations

from pipeline.batch import Batch, make_batches
from pipeline.records import Seed
from pipeline.taxonomy import load_elements


def seeds(count: int) -> list[Seed]:
    return [Seed(category=e.category, sub_category=e.sub_category, element=e) for e in load_elements()[:count]]


def test_every_seed_lands_in_one_batch_in_order():
    planned = seeds(5)
    batches = make_batches(planned, 2)
    assert [len(batch.seeds) for batch in batches] == [2, 2, 1]
    assert [seed.id for batch in batches for seed in batch.seeds] == [seed.id for seed in planned]
    assert [len(batch.seeds) for batch in make_batches(planned, 5)] == [5]
    assert make_batches([], 3) == []


def test_a_batch_id_follows_every_seed_it_holds():
    first, second, third = seeds(3)
    assert Batch(seeds=[first, second]).id == Batch(seeds=[first, second]).id
    assert Batch(seeds=[first, second]).id != Batch(seeds=[first, third]).id
    assert Batch(seeds=[first, second]).id != Batch(seeds=[first]).id
