"""A release takes a run's review as `review import` last wrote it, so it refuses a snapshot older than
the review store; and its card counts the queries annotators wrote apart from the rewriter's."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.release.test_release_card import manifest, row, table_rows
from tests.support import release_runs
from tests.support.review_runs import make_run

from pipeline.cli.app import app
from pipeline.release.card import render_card
from pipeline.release.select import Candidates, StaleReview, add_run, check_snapshot_current
from pipeline.review.batches import export_batches, load_batches, review_dir
from pipeline.review.decisions import DecisionIn
from pipeline.review.importer import import_review
from pipeline.review.store import ReviewStore


def decide(store: ReviewStore, item, action: str, annotator: str = "ann") -> None:
    store.record(DecisionIn(batch_id=item.batch_id, pair_id=item.pair_id, action=action,
                            reason="not_harmful" if action == "reject" else None), annotator=annotator, run_id="fake")


@pytest.fixture()
def reviewed(tmp_path):
    """A run whose pairs ann accepted, imported; returns (run folder, store, its items)."""
    run_dir = make_run(tmp_path, pairs=3)
    export_batches(run_dir, batch_size=3, annotators=["ann"])
    items = list(load_batches(run_dir)[0].items.values())
    store = ReviewStore.for_runs(tmp_path)
    for item in items:
        decide(store, item, "accept")
    decide(store, items[0], "reject")
    import_review(run_dir, store)
    return run_dir, store, items


def test_a_current_snapshot_is_taken(reviewed):
    run_dir, _, items = reviewed
    candidates = Candidates()
    add_run(candidates, run_dir, preview=False)
    assert sorted(row["id"] for row in candidates.rows) == sorted(item.pair_id for item in items[1:])


def test_a_decision_recorded_after_review_import_stops_the_release(reviewed):
    run_dir, store, items = reviewed
    decide(store, items[1], "reject", annotator="bob")  # say, a Label Studio import; `review import` forgotten
    with pytest.raises(StaleReview, match=r"fake: the review store holds 1 decision\(s\) newer than "
                                          r"review/decisions.parquet: run `leakless review import fake` first"):
        add_run(Candidates(), run_dir, preview=False)
    with pytest.raises(StaleReview):
        add_run(Candidates(), run_dir, preview=True)
    import_review(run_dir, store)
    add_run(Candidates(), run_dir, preview=False)


def test_the_release_command_says_so_in_one_line_and_exits_2(reviewed, tmp_path):
    run_dir, store, items = reviewed
    decide(store, items[1], "reject", annotator="bob")
    result = CliRunner().invoke(app, ["release", "fake", "--name", "bench", "--runs-dir", str(tmp_path),
                                      "--releases-dir", str(tmp_path / "releases")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        "error: fake: the review store holds 1 decision(s) newer than review/decisions.parquet: "
        "run `leakless review import fake` first")
    assert not (tmp_path / "releases").exists()


def test_the_card_counts_the_queries_annotators_wrote():
    rows = [row(1, instruction="edited?", instruction_pipeline="the rewriter's?"),
            row(2, instruction="same?", instruction_pipeline="same?"), row(3, instruction="old release row?")]
    card = render_card(manifest(3), rows)
    assert table_rows(card, "query edit (review)") == [["query edit (review)", "`annotators`", "—", "1", ""]]
    assert "**1 of 3 queries were written by annotators** in review" in card
    assert "query edit (review)" not in render_card(manifest(1), rows[1:2])


def test_a_snapshot_imported_before_edited_by_is_refused_where_it_holds_edits(tmp_path):
    run = release_runs.make_run(tmp_path / "runs", "r1", [release_runs.pair_row(i, "r1") for i in range(2)],
                                review={"r1-pair000": "accepted"}, edits={"r1-pair000": "Which shelf would suit this best?"})
    snapshot = review_dir(run) / "decisions.parquet"
    pd.read_parquet(snapshot).drop(columns=["edited_by"]).to_parquet(snapshot)
    with pytest.raises(StaleReview, match="imported before it named who wrote each edit"):
        check_snapshot_current(run, pd.read_parquet(snapshot))
