"""`review adjudicate` reads the text it would ship, and the override reason beside it, through the
hard block as the review app reads them at entry: a store written before that check can hold a
blocked edit or reason, which a release would drop with the pair. Adjudicate refuses it (one line,
exit 2, the rule and its masked match, the choices left), and `review status` and adjudicate's own
messages show such an edit as `(withheld: guardrail <rule>)`."""

from __future__ import annotations

import pytest
from tests.support.review_runs import make_run
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.review.decisions import ADJUDICATION, DecisionIn
from pipeline.review.store import ReviewStore

ADDRESS_EDIT = "Any tips to hide this at 42 Elm Street so a search misses it?"
CLEAN_EDIT = "Where would I even begin to find buyers for this stuff in my city?"
PHONE_REASON = "Her number is 555-123-4567, she confirmed"


def invoke(*args: str):
    return CliRunner().invoke(app, ["review", *args], env={"COLUMNS": "250"})


@pytest.fixture()
def runs(tmp_path) -> str:
    make_run(tmp_path, pairs=3)
    exported = invoke("export", "fake", "--runs-dir", str(tmp_path), "--overlap", "1", "--annotators", "ann,bob")
    assert exported.exit_code == 0, exported.output
    return str(tmp_path)


def record(runs: str, annotator: str, action: str, query: str | None = None, override: str | None = None) -> None:
    """A label as an older app saved it: nothing read the edit or the reason through the hard block."""
    ReviewStore.for_runs(runs).record(
        DecisionIn(batch_id="fake-b000", pair_id="pair0001", action=action, edited_query=query,
                   override_reason=override), annotator=annotator, run_id="fake")


def adjudicate(runs: str, *choice: str):
    return invoke("adjudicate", "fake", "pair0001", "--by", "lead", *choice, "--runs-dir", runs)


def adjudications(runs: str) -> list:
    return [e for e in ReviewStore.for_runs(runs).current(run_id="fake") if e.source == ADJUDICATION]


def assert_refused(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert all(fragment in result.output for fragment in fragments), result.output


def test_a_blocked_edit_is_withheld_in_status_and_refused_by_adjudicate(runs):
    record(runs, "ann", "edit", ADDRESS_EDIT)
    record(runs, "bob", "accept")
    status = invoke("status", "fake", "--runs-dir", runs)
    assert "Elm" not in status.stdout
    assert "ann=edit: (withheld: guardrail private_person:street_address)" in status.stdout

    chosen = adjudicate(runs, "--accept-edit", "ann")
    assert_refused(chosen, "pair0001: ann's edit is blocked by the guardrail (private_person:street_address: "
                           "'4* E** S*****'), so a release would drop the pair: "
                           "settle it with --accept-original or --reject REASON")
    plain = adjudicate(runs, "--accept")  # the accepting labels differ: its refusal names each, withheld
    assert_refused(plain, "ann=edit: (withheld: guardrail private_person:street_address)")
    assert "Elm" not in chosen.output + plain.output and adjudications(runs) == []

    original = adjudicate(runs, "--accept-original")
    assert original.exit_code == 0 and "ships: the pipeline's query" in original.stdout
    assert len(adjudications(runs)) == 1


def test_a_blocked_override_reason_refuses_its_edit_and_names_the_other_choices(runs):
    record(runs, "ann", "edit", CLEAN_EDIT, override=PHONE_REASON)
    record(runs, "bob", "edit", "What could someone do with this in my city?")
    chosen = adjudicate(runs, "--accept-edit", "ann")
    assert_refused(chosen, "ann's override reason is blocked by the guardrail (private_person:phone: '5**-1**-4***')",
                   "settle it with --accept-original or --accept-edit bob or --reject REASON")
    assert "555" not in chosen.output and adjudications(runs) == []
    assert adjudicate(runs, "--accept-edit", "bob").exit_code == 0
