"""`review status` shows every letter of an edit (Rich cropped a line holding a wide CJK character
with "…", so two identical edits looked different) and every batch and pair id whole, the ids that
`review adjudicate` takes, however narrow the window."""

from __future__ import annotations

import pytest
from tests.support.review_runs import make_run
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.review.batches import export_batches
from pipeline.review.decisions import DecisionIn
from pipeline.review.store import ReviewStore

# English with accents and a dash (a French edit is withheld now: the hard block cannot read it)
EDIT = "How would I keep ça hidden so that nobody notices — not even my frère at the café?"


@pytest.fixture()
def runs(tmp_path):
    """ann accepts pair0000 of batch fake-b000, 李 edits it: a conflict."""
    export_batches(make_run(tmp_path, pairs=3), batch_size=3, overlap=1.0, annotators=["ann", "李"])
    store = ReviewStore.for_runs(tmp_path)
    store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0000", action="accept"), annotator="ann", run_id="fake")
    store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0000", action="edit", edited_query=EDIT),
                 annotator="李", run_id="fake")
    return tmp_path


def status_at(runs, columns: int) -> str:
    result = CliRunner().invoke(app, ["review", "status", "fake", "--runs-dir", str(runs)], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("columns", [80, 200])
def test_an_edit_beside_a_wide_character_keeps_every_word(runs, columns):
    shown = status_at(runs, columns)
    assert "Conflicts to adjudicate: 1" in shown and "…" not in shown
    assert set(EDIT.split()) <= set(shown.replace('"', ' ').split())


@pytest.mark.parametrize("columns", [20, 40])
def test_ids_are_whole_and_no_letter_is_lost_in_a_narrow_window(runs, columns):
    shown = status_at(runs, columns)
    conflicts = shown.split("Conflicts to adjudicate")[1]
    assert "…" not in shown
    assert any("fake-b000" in line and "pair0000" in line for line in conflicts.splitlines())
    assert any("fake-b000" in line and "李" in line for line in shown.split("Agreement")[0].splitlines())
    folded = "".join(part.strip() for line in conflicts.splitlines() for part in line.split("│")[3:4])
    assert f'李=edit:"{EDIT}"'.replace(" ", "") in folded.replace(" ", "")
