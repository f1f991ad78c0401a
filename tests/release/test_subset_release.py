"""A selected version (`write_subset_release`): its manifest counts the source's pairs it left out, and a
selection from a selected version carries the new selection's reasons, not the old ones."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq

from pipeline.backends.base import Embedder
from pipeline.contracts import PairCheck
from pipeline.release.make import make_release
from pipeline.release.subset import write_subset_release
from tests.release.test_release_make import FixedDetector
from tests.support.embedders import basis
from tests.support.release_runs import QUERIES, accepted_run


class PassesEverything:
    backend, model, prompt_hash = "test", "passes", ""

    def check(self, pairs):
        return [PairCheck(True, True, True, "fine") for _ in pairs]


class EveryTextItsOwnAxis(Embedder):
    """Each distinct text a vector of its own: no two texts are near-duplicates."""
    backend, model = "scripted", "scripted"

    def __init__(self):
        self.axes: dict[str, int] = {}

    def embed(self, texts):
        return np.stack([basis(self.axes.setdefault(text, len(self.axes))) for text in texts]) if texts else \
            np.zeros((0, len(basis(0))), dtype=np.float32)


def quick_release(tmp_path):
    """A release of four pairs, made without the models: distinct query vectors, every query leak-free."""
    run = accepted_run(tmp_path / "runs", "r1", 4)
    embedder = EveryTextItsOwnAxis()
    return make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=embedder,
                        checker=PassesEverything(), detector=FixedDetector(dict.fromkeys(QUERIES, 0.1)))


def selection(source: str) -> dict:
    return {"source": source, "models": ["a", "b"], "per_sub_category": 1, "kendall_tau": 1.0}


def manifest_of(folder) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def reasons_of(folder) -> dict[str, str]:
    table = pq.read_table(next((folder / "data").glob("*.parquet")), columns=["id", "selection_reason"])
    return dict(zip(table["id"].to_pylist(), table["selection_reason"].to_pylist()))


def test_a_selected_version_counts_the_pairs_it_left_out_and_carries_the_new_reasons(tmp_path):
    source = quick_release(tmp_path)
    ids = sorted(pq.read_table(source / "dedup_index.parquet")["id"].to_pylist())

    selected = write_subset_release(source, {pair_id: "first pick" for pair_id in ids[:3]},
                                    selection=selection(source.name))
    again = write_subset_release(selected, {ids[0]: "second pick"}, selection=selection(selected.name))

    assert (manifest_of(selected)["rows"], manifest_of(selected)["dropped"]["not_selected"]) == (3, 1)
    assert (manifest_of(again)["rows"], manifest_of(again)["dropped"]["not_selected"]) == (1, 2)
    assert reasons_of(again) == {ids[0]: "second pick"}
