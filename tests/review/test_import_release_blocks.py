"""`review import` says which accepted pairs a release would drop for the hard block: a pair labelled
by one annotator alone with an edit or override reason the hard block stops (a store saved before the
app read them at entry) imported as accepted and was dropped at release without a word."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.review.test_adjudicate_hard_block import ADDRESS_EDIT, CLEAN_EDIT, PHONE_REASON, invoke
from tests.support.review_runs import make_run

from pipeline.release.make import guardrail_pass
from pipeline.release.select import Candidates, add_run
from pipeline.review.decisions import DecisionIn
from pipeline.review.store import ReviewStore

@pytest.fixture()
def runs(tmp_path: Path) -> Path:
    make_run(tmp_path, pairs=4)
    exported = invoke("export", "fake", "--runs-dir", str(tmp_path), "--annotators", "ann")
    assert exported.exit_code == 0, exported.output
    return tmp_path


def record(runs: Path, pair: str, action: str, query: str | None = None, override: str | None = None) -> None:
    """One annotator's label as an older app saved it: nothing read the edit or reason through the hard block."""
    ReviewStore.for_runs(runs).record(
        DecisionIn(batch_id="fake-b000", pair_id=pair, action=action, edited_query=query, override_reason=override),
        annotator="ann", run_id="fake")


def test_import_names_the_accepted_pairs_a_release_drops_for_the_hard_block(runs: Path):
    record(runs, "pair0000", "accept")
    record(runs, "pair0001", "edit", ADDRESS_EDIT)
    record(runs, "pair0002", "edit", CLEAN_EDIT, override=PHONE_REASON)
    record(runs, "pair0003", "edit", CLEAN_EDIT, override="the team agreed")
    imported = invoke("import", "fake", "--runs-dir", str(runs))
    assert imported.exit_code == 0, imported.output
    assert imported.stdout == "accepted=4\n"
    where, *notes = imported.stderr.splitlines()
    assert where.startswith("-> ") and where.endswith("decisions.parquet and accepted_ids.json")
    assert len(notes) == 1 and notes[0].startswith("note: 2 accepted pair(s) would be dropped at release")
    assert "(private_person:phone: 1, private_person:street_address: 1): pair0001, pair0002;" in notes[0]
    assert "Elm" not in imported.output and "555-" not in imported.output

    candidates = Candidates()
    add_run(candidates, runs / "fake", preview=False)
    kept, dropped = guardrail_pass(candidates.rows)
    assert {decision.item_id for decision in dropped} == {"pair0001", "pair0002"}   # the pairs the note names
    assert len(kept) == 2


def test_import_of_pairs_the_release_ships_adds_no_note(runs: Path):
    record(runs, "pair0000", "accept")
    record(runs, "pair0003", "edit", CLEAN_EDIT, override="the team agreed")
    imported = invoke("import", "fake", "--runs-dir", str(runs))
    assert imported.exit_code == 0 and "note" not in imported.stderr
