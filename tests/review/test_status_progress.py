"""`review status`'s progress table says that a skip counts among the decided pairs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.review.decisions import DecisionIn
from pipeline.review.store import ReviewStore
from tests.support.review_runs import make_run

pytestmark = pytest.mark.slow  # an export and a store: a few seconds


def test_the_decided_column_says_it_holds_the_skips(tmp_path):
    make_run(tmp_path, pairs=3)
    runs = str(tmp_path)
    CliRunner().invoke(app, ["review", "export", "fake", "--runs-dir", runs, "--annotators", "ann"])
    store = ReviewStore.for_runs(tmp_path)
    for pair, action in (("pair0000", "accept"), ("pair0001", "skip")):
        store.record(DecisionIn(batch_id="fake-b000", pair_id=pair, action=action), annotator="ann", run_id="fake")
    progress = CliRunner().invoke(app, ["review", "status", "fake", "--runs-dir", runs]).stdout.split("Agreement")[0]
    header, row = ([cell.strip() for cell in line.strip("┃│ ").replace("┃", "│").split("│")]
                   for line in progress.splitlines() if "batch" in line or "fake-b000" in line)
    assert dict(zip(header, row)) == {"batch": "fake-b000", "annotator": "ann", "decided (incl. skipped)": "2",
                                      "skipped": "1", "assigned": "3"}
