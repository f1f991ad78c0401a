"""End to end (needs the wiring in make.py, schema.py, verify.py): a release over a run whose build seeded a
grown element drops the pair whose reviewed query names the element's synonym, stores each row's element
terms, and verify re-scores the shipped rows the same way."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from pipeline.backends.minilm import default_embedder
from pipeline.release.make import make_release
from pipeline.release.verify import verify_release
from tests.release.test_run_element_terms import CLEAN_QUERY, RELAY, SYNONYM_QUERY, write_batch
from tests.support.release_runs import make_run, pair_row


def test_a_release_drops_a_grown_elements_synonym_and_verifies(tmp_path):
    runs = tmp_path / "runs"
    seed, = write_batch(runs / "g1", [RELAY])
    base = {"seed_id": seed.id, "image_description": RELAY.description, "category": RELAY.category,
            "sub_category": RELAY.sub_category, "element": RELAY.element}
    rows = [{**pair_row(0, "g1"), **base, "instruction": CLEAN_QUERY},
            {**pair_row(1, "g1"), **base, "instruction": SYNONYM_QUERY}]
    run = make_run(runs, "g1", rows, review={row["id"]: "accepted" for row in rows})
    notes = []

    folder = make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder(),
                          notes=notes)

    shipped = pq.read_table(folder / "data").to_pylist()
    assert [row["id"] for row in shipped] == ["g1-pair000"] and notes == []
    assert json.loads(shipped[0]["element_terms"]) == list(RELAY.terms)
    assert verify_release(folder, default_embedder()) == []
