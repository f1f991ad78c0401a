"""`release`'s dedup step has a pairs bar, as its final filtration and leak check have: the step embeds
every query of the new pairs and of the earlier versions (seconds at a few hundred pairs, more against a
long line of versions), and said its line and then nothing until the next. The bar counts the new pairs
and the released ones, moves per slice of queries embedded, and ends full though repeated queries are
embedded once."""

from __future__ import annotations

import pytest

import pipeline.release.verify as verify_module
from pipeline.backends.minilm import default_embedder
from pipeline.release.make import make_release
from pipeline.release.verify import load_manifest
from tests.release.test_release_step_bars import RecordedSteps
from tests.support.release_runs import accepted_run, make_run, pair_row


@pytest.fixture()
def embedded_two_at_a_time(monkeypatch):
    monkeypatch.setattr(verify_module, "EMBED_SLICE", 2)


def released(tmp_path, run, steps=None, extend=False):
    return make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder(),
                        extend=extend, on_step=steps or RecordedSteps())


def test_dedup_moves_a_bar_per_slice_of_queries_embedded(tmp_path, embedded_two_at_a_time):
    steps = RecordedSteps()
    released(tmp_path, accepted_run(tmp_path / "runs", "r1", 3), steps)
    assert steps.bars["dedup"] == (3, [2, 1])
    assert "dedup of 3 pairs against 0 released" in steps.lines  # the step's line as before


def test_dedup_against_earlier_versions_counts_their_pairs_and_ends_full(tmp_path, embedded_two_at_a_time):
    released(tmp_path, accepted_run(tmp_path / "runs", "r1", 3))
    steps = RecordedSteps()
    # pairs 12-14 ask what pairs 0-2 of v1 ask (one text each, embedded once), of the same scenes: dropped as
    # duplicates (their descriptions are equal: none embedded, so the bar counts the queries alone)
    scenes = {i + 12: {key: pair_row(i, "r1")[key] for key in ("image_description", "category", "sub_category",
                                                               "element")} for i in range(3)}
    rows = [{**pair_row(i, "r2"), **scenes.get(i, {})} for i in range(12, 16)]
    run = make_run(tmp_path / "runs", "r2", rows, review={row["id"]: "accepted" for row in rows})
    folder = released(tmp_path, run, steps, extend=True)
    assert "dedup of 4 pairs against 3 released" in steps.lines
    total, told = steps.bars["dedup"]
    assert total == 7
    assert told == [2, 2, 3]  # 4 distinct queries in slices of two, then the 3 repeats at once
    assert load_manifest(folder)["dropped"]["query_duplicate"] == 3
