"""`review status` prints names, ids and annotators' edits as written: an edit holding "[/]" or
"[bold red]" (Rich markup) or ":smile:" (a Rich emoji code) neither crashes it nor is shown as
another text than the one stored and shipped."""

from __future__ import annotations

from tests.support.review_runs import make_run
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.review.batches import export_batches
from pipeline.review.decisions import DecisionIn
from pipeline.review.store import ReviewStore

EDITS = {"ann[/]": "Any tips for this at family dinners [/]", "bob": "What if I [bold red]share this :smile:?"}


def test_status_shows_markup_in_edits_and_names_as_written(tmp_path):
    export_batches(make_run(tmp_path, pairs=3), batch_size=3, overlap=1.0, annotators=list(EDITS))
    store = ReviewStore.for_runs(tmp_path)
    for annotator, edit in EDITS.items():
        store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0000", action="edit", edited_query=edit),
                     annotator=annotator, run_id="fake")

    result = CliRunner().invoke(app, ["review", "status", "fake", "--runs-dir", str(tmp_path)],
                                env={"COLUMNS": "400"})

    assert result.exit_code == 0, result.output
    assert "ann[/]" in result.stdout
    assert f'ann[/]=edit: "{EDITS["ann[/]"]}"' in result.stdout and f'bob=edit: "{EDITS["bob"]}"' in result.stdout
