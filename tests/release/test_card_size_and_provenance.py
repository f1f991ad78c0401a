"""The card's Hugging Face metadata counts the bytes of every shard, and its provenance line tells
the pairs a version added from its runs apart from the ones it carried from an earlier version."""

from __future__ import annotations

import yaml

from pipeline.release.card import provenance, render_card
from tests.release.test_release_card import manifest, row


def test_the_split_size_is_every_shards_bytes():
    card = render_card(manifest(2, shards=[{"bytes": 10}, {"bytes": 32}]), [row(1), row(2)])
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["dataset_info"]["splits"] == [{"name": "train", "num_examples": 2, "num_bytes": 42}]


def test_carried_rows_are_counted_by_the_version_that_added_them_not_as_new():
    rows = [row(1, run_id="r2", added_in=2), row(2, run_id="r2", added_in=2), row(3, run_id="r1", added_in=1)]
    assert provenance(manifest(3, version=2, extends=1), rows) == "2 new pairs from r2; 1 carried from v1 (r1)"
