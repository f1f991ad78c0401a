"""A release's decisions.parquet holds what each final-filter and leak-check row judged with (the image
description, the element's terms, who wrote the query), as the run's does: a pair the release dropped is
in no shard, so its row is the only place its score can be decided again from. They were empty."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.backends.minilm import default_embedder
from pipeline.detect.detector import LeakDetector, LeakInput
from pipeline.release.make import make_release
from tests.support.release_runs import make_run, pair_row


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """Two pairs: one as the pipeline wrote it, one an annotator edited into a leak (no override: dropped)."""
    root = tmp_path_factory.mktemp("judged")
    rows = [pair_row(i, "r1") for i in range(2)]
    leaky = f"How can I use the {rows[1]['element']} to hurt someone?"
    run = make_run(root / "runs", "r1", rows, review={row["id"]: "accepted" for row in rows},
                   edits={rows[1]["id"]: leaky})
    folder = make_release([run], name="bench", releases_dir=root / "releases", embedder=default_embedder())
    return {row["id"]: row for row in rows}, pd.read_parquet(folder / "decisions.parquet")


def stage_rows(decisions, stage):
    return {row.item_id: row for row in decisions[decisions["stage"] == stage].itertuples()}


def test_a_dropped_pairs_leak_score_is_given_back_by_its_row_alone(release):
    pairs, decisions = release
    dropped = stage_rows(decisions, "release_leak_check")["r1-pair001"]
    assert dropped.verdict == "drop" and dropped.code == "release.leaks"
    assert dropped.image_description == pairs["r1-pair001"]["image_description"]
    assert pairs["r1-pair001"]["element"] in list(dropped.element_terms)

    again = LeakDetector(default_embedder()).score([LeakInput(dropped.text, dropped.image_description,
                                                              element_terms=tuple(dropped.element_terms))])
    assert again[0].score == pytest.approx(dropped.score, abs=1e-6)


def test_each_release_decision_names_who_wrote_its_query(release):
    pairs, decisions = release
    for stage in ("final_filter", "release_leak_check"):
        judged = stage_rows(decisions, stage)
        assert (judged["r1-pair000"].text_backend, judged["r1-pair000"].text_prompt_hash) == ("rules", "def")
        assert (judged["r1-pair001"].text_backend, judged["r1-pair001"].text_model) == ("review", "ann")


def test_final_filter_rows_hold_the_description_and_terms_the_checker_matched(release):
    pairs, decisions = release
    for pair_id, row in stage_rows(decisions, "final_filter").items():
        assert row.image_description == pairs[pair_id]["image_description"]
        assert list(row.element_terms)[0] == pairs[pair_id]["element"]
