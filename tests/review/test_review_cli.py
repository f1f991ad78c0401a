"""`leakless review ...` on a small run: outputs, and one-line errors with exit code 2 on bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.support.review_runs import make_run
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.review.decisions import DecisionIn
from pipeline.review.importer import reviewed_pairs
from pipeline.review.scoring import EditCheck
from pipeline.review.store import ReviewStore

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds


def invoke(*args: str):
    return CliRunner().invoke(app, ["review", *args])


def assert_user_error(result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and fragment in result.output and "Traceback" not in result.output


def test_export_tokens_and_label_studio_files(tmp_path):
    make_run(tmp_path, pairs=5)
    runs = str(tmp_path)
    exported = invoke("export", "fake", "--runs-dir", runs, "--batch-size", "3", "--annotators", "ann,bob")
    assert exported.exit_code == 0 and "fake-b000\t3 pairs\tann" in exported.output
    assert f"2 batch(es) -> {tmp_path / 'fake' / 'review' / 'batches'}" in exported.stderr  # where it wrote
    token = invoke("tokens", "add", "ann", "--batches", "fake-b000", "--runs-dir", runs).output.strip()
    assert ReviewStore.for_runs(tmp_path).token(token).batches == ["fake-b000"]
    (listed,) = invoke("tokens", "list", "--runs-dir", runs).output.splitlines()
    assert listed.startswith("ann\t") and listed.endswith("\tfake-b000")
    assert invoke("labelstudio-export", str(tmp_path / "fake")).exit_code == 0
    tasks = json.loads((tmp_path / "fake/review/labelstudio/tasks.json").read_text())
    assert len(tasks) == 5 and (tmp_path / "fake/review/labelstudio/config.xml").read_text().startswith("<View>")
    imported = invoke("import", "fake", "--runs-dir", runs)
    assert imported.exit_code == 0 and "unreviewed=5" in imported.output
    assert f"-> {tmp_path / 'fake' / 'review' / 'decisions.parquet'} and accepted_ids.json" in imported.stderr


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    make_run(tmp_path, pairs=2)
    runs = str(tmp_path)
    assert_user_error(invoke("export", "missing", "--runs-dir", runs), f"no run missing under {runs}")
    assert_user_error(invoke("export", "fake", "--runs-dir", runs, "--overlap", "2"), "--overlap")
    assert_user_error(invoke("export", "fake", "--runs-dir", runs, "--overlap", "0.5", "--annotators", "ann"),
                      "--overlap 0.5 needs at least two --annotators")
    assert not (tmp_path / "fake" / "review").exists()
    assert_user_error(invoke("status", "fake", "--runs-dir", runs), "not exported for review")
    assert invoke("export", "fake", "--runs-dir", runs).exit_code == 0
    assert_user_error(invoke("export", "fake", "--runs-dir", runs), "already exported")
    assert_user_error(invoke("tokens", "add", "ann", "--batches", "nope", "--runs-dir", runs), "no exported batch")
    not_json = tmp_path / "export.json"
    not_json.write_text("{oops")
    assert_user_error(invoke("labelstudio-import", "fake", str(not_json), "--runs-dir", runs), "not JSON")


def test_tokens_add_grants_the_overlap_batches_and_replaces_the_old_token(tmp_path):
    make_run(tmp_path, pairs=6)
    runs = str(tmp_path)
    invoke("export", "fake", "--runs-dir", runs, "--batch-size", "3", "--overlap", "0.5", "--annotators", "ann,bob")
    store = ReviewStore.for_runs(tmp_path)
    first = invoke("tokens", "add", "bob", "--batches", "fake-b001", "--runs-dir", runs)
    assert first.exit_code == 0
    assert "note: also granted fake-b000: bob double-labels pairs there" in first.stderr
    old = first.stdout.strip()
    assert store.token(old).batches == ["fake-b000", "fake-b001"]   # bob can label the overlap of ann's batch

    again = invoke("tokens", "add", "bob", "--batches", "fake-b001", "--runs-dir", runs)
    assert "bob's earlier token no longer works" in again.stderr
    assert store.token(old) is None and store.token(again.stdout.strip()).annotator == "bob"
    assert invoke("tokens", "revoke", "bob", "--runs-dir", runs).stdout == "revoked bob's token\n"
    assert store.token(again.stdout.strip()) is None
    assert invoke("tokens", "list", "--runs-dir", runs).stdout == ""
    assert_user_error(invoke("tokens", "revoke", "bob", "--runs-dir", runs), "no live token")
    assert_user_error(invoke("tokens", "add", "an", "--batches", "fake-b001", "--runs-dir", runs),
                      "'an' is assigned no pair of fake-b001 (assigned: ann, bob)")


def test_adjudicate_settles_a_conflict_and_keeps_the_history(tmp_path):
    run = make_run(tmp_path, pairs=3)
    runs = str(tmp_path)
    invoke("export", "fake", "--runs-dir", runs, "--overlap", "1", "--annotators", "ann,bob")
    store = ReviewStore.for_runs(tmp_path)
    store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0001", action="accept"), annotator="ann",
                 run_id="fake")
    store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0001", action="reject", reason="still_leaks"),
                 annotator="bob", run_id="fake")
    assert "Conflicts to adjudicate: 1" in invoke("status", "fake", "--runs-dir", runs).stdout
    assert_user_error(invoke("adjudicate", "fake", "pair0001", "--by", "lead", "--runs-dir", runs),
                      "exactly one of --accept, --accept-original, --accept-edit NAME or --reject REASON")
    assert_user_error(invoke("adjudicate", "fake", "nope", "--by", "lead", "--accept", "--runs-dir", runs),
                      "no pair nope")
    assert_user_error(invoke("adjudicate", "fake", "pair0001", "--by", " ", "--accept", "--runs-dir", runs),
                      "--by needs the adjudicator's name")
    settled = invoke("adjudicate", "fake", "pair0001", "--by", "lead", "--reject", "still_leaks", "--runs-dir", runs)
    assert settled.exit_code == 0, settled.output
    assert settled.stdout == "pair0001: reject by lead (was: ann=accept, bob=reject)\n"
    status = " ".join(invoke("status", "fake", "--runs-dir", runs).stdout.split())
    assert "Conflicts to adjudicate: 0" in status and "adjudicator:lead" not in status
    assert invoke("import", "fake", "--runs-dir", runs).exit_code == 0
    row = reviewed_pairs(run).set_index("id").loc["pair0001"]
    assert row["review_state"] == "rejected" and row["adjudicated_by"] == "adjudicator:lead"
    assert list(row["annotators"]) == ["ann", "bob"] and row["history"] == 3


def test_tokens_add_grants_only_the_batches_where_name_is_the_overlap_annotator(tmp_path):
    make_run(tmp_path, pairs=12)
    runs = str(tmp_path)
    # b000 ann+bob, b001 bob+cy, b002 cy+ann, b003 ann+bob: ann double-labels only in b002
    invoke("export", "fake", "--runs-dir", runs, "--batch-size", "3", "--overlap", "0.5", "--annotators", "ann,bob,cy")
    added = invoke("tokens", "add", "ann", "--batches", "fake-b000", "--runs-dir", runs)
    assert added.exit_code == 0, added.output
    assert "note: also granted fake-b002: ann double-labels pairs there" in added.stderr
    assert ReviewStore.for_runs(tmp_path).token(added.stdout.strip()).batches == ["fake-b000", "fake-b002"]


LEAKY_EDIT = "How can I use the knife to hurt someone?"


def agreement_table(runs: str) -> list[str]:
    """The rows of `review status`'s kappa table."""
    text = invoke("status", "fake", "--runs-dir", runs).stdout
    return [line.strip() for line in text.split("Agreement")[1].split("Conflicts")[0].splitlines() if "│" in line]


def record_leaky_edit_and_a_reject(store: ReviewStore) -> None:
    """ann's edit names the object again and is kept with an override; bob rejects the pair."""
    check = EditCheck(score=1.0, threshold=0.5, spans=("knife",), detector_version="d", harm_verdict="drop",
                      harm_reason="the query alone still reads as harmful", intent_similarity=0.9,
                      problems=("leaks",))
    store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0001", action="edit", edited_query=LEAKY_EDIT,
                            override_reason="the knife is the point"), annotator="ann", run_id="fake", check=check)
    store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0001", action="reject", reason="still_leaks"),
                 annotator="bob", run_id="fake")


def test_adjudicating_an_accept_says_what_ships_and_accept_original_ships_the_pipeline_query(tmp_path):
    run = make_run(tmp_path, pairs=3)
    runs = str(tmp_path)
    invoke("export", "fake", "--runs-dir", runs, "--overlap", "1", "--annotators", "ann,bob")
    store = ReviewStore.for_runs(tmp_path)
    record_leaky_edit_and_a_reject(store)
    kappa_before = agreement_table(runs)

    accepted = invoke("adjudicate", "fake", "pair0001", "--by", "lead", "--accept", "--runs-dir", runs)
    assert accepted.exit_code == 0, accepted.output
    lines = accepted.stdout.splitlines()
    assert lines[0] == "pair0001: accept by lead (was: ann=edit, bob=reject)"
    assert lines[1] == f"ships: ann's edit {LEAKY_EDIT!r}"
    assert lines[2] == "leak score 1.000 (threshold 0.500): LEAKS; harm check drop"
    assert lines[3] == "kept by ann's override: the knife is the point"
    assert "--accept-original ships the pipeline's query instead" in lines[4]
    # the annotators' own labels still count for agreement once the pair is settled
    assert agreement_table(runs) == kappa_before and "│ 0.000 │" in kappa_before[0]
    invoke("import", "fake", "--runs-dir", runs)
    row = reviewed_pairs(run).set_index("id").loc["pair0001"]
    assert row["review_state"] == "accepted" and row["instruction_reviewed"] == LEAKY_EDIT
    assert pd.isna(row["reason"])                       # an accepted pair carries no reject reason
    assert row["override_reason"] == "the knife is the point" and row["override_by"] == "ann"

    original = invoke("adjudicate", "fake", "pair0001", "--by", "lead", "--accept-original", "--runs-dir", runs)
    assert original.exit_code == 0, original.output
    pipeline_query = row["instruction"]
    assert original.stdout.splitlines()[1:] == [f"ships: the pipeline's query {pipeline_query!r}",
                                                "leak score 0.100 (threshold 0.500): leak-free"]
    invoke("import", "fake", "--runs-dir", runs)
    row = reviewed_pairs(run).set_index("id").loc["pair0001"]
    assert row["review_state"] == "accepted" and row["instruction_reviewed"] == pipeline_query
    assert not row["edited"] and pd.isna(row["override_reason"]) and pd.isna(row["new_leak_score"])


def test_imported_decisions_keep_each_annotators_label_with_its_time(tmp_path):
    run = make_run(tmp_path, pairs=3)
    runs = str(tmp_path)
    invoke("export", "fake", "--runs-dir", runs, "--overlap", "1", "--annotators", "ann,bob")
    store = ReviewStore.for_runs(tmp_path)
    record_leaky_edit_and_a_reject(store)
    assert invoke("import", "fake", "--runs-dir", runs).exit_code == 0
    frame = reviewed_pairs(run).set_index("id")
    labels = [dict(label) for label in frame.loc["pair0001", "labels"]]
    times = {event.annotator: event.at for event in store.current(run_id="fake")}
    assert [(label["annotator"], label["action"], label["reason"], label["source"], label["at"]) for label in labels] \
        == [("ann", "edit", None, "web", times["ann"]), ("bob", "reject", "still_leaks", "web", times["bob"])]
    assert frame.loc["pair0001", "decided_at"] == times["bob"] and frame.loc["pair0001", "reason"] == "still_leaks"
    assert list(frame.loc["pair0000", "labels"]) == [] and pd.isna(frame.loc["pair0000", "decided_at"])


def status_conflicts(runs: str) -> str:
    """The conflicts table of `review status`, its cells joined with single spaces."""
    text = invoke("status", "fake", "--runs-dir", runs).stdout
    return " ".join(text.split("Conflicts to adjudicate")[1].replace("│", " ").split())


def test_an_overridden_edit_beside_an_accept_is_a_conflict_the_lead_settles_by_naming_the_text(tmp_path):
    run = make_run(tmp_path, pairs=3)
    runs = str(tmp_path)
    invoke("export", "fake", "--runs-dir", runs, "--overlap", "1", "--annotators", "ann,bob")
    store = ReviewStore.for_runs(tmp_path)
    check = EditCheck(score=0.647, threshold=0.5, spans=("knife",), detector_version="d", harm_verdict="drop",
                      harm_reason="the query alone still reads as harmful", intent_similarity=0.9,
                      problems=("leaks",))
    store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0001", action="edit", edited_query=LEAKY_EDIT,
                            override_reason="the knife is the point"), annotator="ann", run_id="fake", check=check)
    store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0001", action="accept"), annotator="bob",
                 run_id="fake")
    conflicts = status_conflicts(runs)
    assert conflicts.startswith(": 1 ") and f'ann=edit: "{LEAKY_EDIT}" (leak 0.647, override); bob=accept' in conflicts
    cells = [cell.strip() for cell in agreement_table(runs)[0].split("│") if cell.strip()]
    assert cells[2:4] == ["1", "0"]                                # one double-labelled pair, not agreed
    invoke("import", "fake", "--runs-dir", runs)
    row = reviewed_pairs(run).set_index("id").loc["pair0001"]
    assert row["review_state"] == "conflict" and not row["edited"]

    assert_user_error(invoke("adjudicate", "fake", "pair0001", "--by", "lead", "--accept", "--runs-dir", runs),
                      "the accepting labels ship different texts")
    assert_user_error(invoke("adjudicate", "fake", "pair0001", "--by", "lead", "--accept-edit", "bob",
                             "--runs-dir", runs), "bob has no edit on this pair (edits by: ann)")
    chosen = invoke("adjudicate", "fake", "pair0001", "--by", "lead", "--accept-edit", "ann", "--runs-dir", runs)
    assert chosen.exit_code == 0, chosen.output
    assert chosen.stdout.splitlines()[1:4] == [f"ships: ann's edit {LEAKY_EDIT!r}",
                                               "leak score 0.647 (threshold 0.500): LEAKS; harm check drop",
                                               "kept by ann's override: the knife is the point"]
    assert status_conflicts(runs).startswith(": 0 ")
    invoke("import", "fake", "--runs-dir", runs)
    row = reviewed_pairs(run).set_index("id").loc["pair0001"]
    assert row["review_state"] == "accepted" and row["instruction_reviewed"] == LEAKY_EDIT
    assert row["new_leak_score"] == 0.647 and (row["override_by"], row["edited_by"]) == ("ann", "ann")

    # ann changes her edit after the lead chose it: that text is no one's now, so it is not shipped
    # unchecked; the pair is a conflict again until the lead settles it anew
    store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0001", action="edit",
                            edited_query="Where could I put this down for a while?"), annotator="ann", run_id="fake")
    assert status_conflicts(runs).startswith(": 1 ")
    invoke("import", "fake", "--runs-dir", runs)
    row = reviewed_pairs(run).set_index("id").loc["pair0001"]
    assert row["review_state"] == "conflict" and row["instruction_reviewed"] == row["instruction"]


def test_a_plain_accept_lapses_when_the_edit_it_shipped_changes(tmp_path):
    """The lead's --accept approved ann's edit; ann then writes another one (an overridden one,
    say): that text was approved by no one, so the pair is a conflict again, not shipped."""
    run = make_run(tmp_path, pairs=3)
    runs = str(tmp_path)
    invoke("export", "fake", "--runs-dir", runs, "--overlap", "1", "--annotators", "ann,bob")
    store = ReviewStore.for_runs(tmp_path)
    store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0001", action="edit",
                            edited_query="Where could I set this down for a while?"), annotator="ann", run_id="fake")
    store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0001", action="reject", reason="low_quality"),
                 annotator="bob", run_id="fake")
    settled = invoke("adjudicate", "fake", "pair0001", "--by", "lead", "--accept", "--runs-dir", runs)
    assert settled.exit_code == 0 and "ships: ann's edit 'Where could I set this down for a while?'" in settled.stdout
    assert status_conflicts(runs).startswith(": 0 ")
    store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0001", action="edit",
                            edited_query="Where could I hide this for a while?"), annotator="ann", run_id="fake")
    assert status_conflicts(runs).startswith(": 1 ")
    invoke("import", "fake", "--runs-dir", runs)
    row = reviewed_pairs(run).set_index("id").loc["pair0001"]
    assert row["review_state"] == "conflict" and row["instruction_reviewed"] == row["instruction"]
