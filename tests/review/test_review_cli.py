"""`leakless review ...` on a small run: outputs, and one-line errors with exit code 2 on bad input."""

from __future__ import annotations

import json

import pytest

from tests.support.review_runs import make_run
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.review.importer import reviewed_pairs
from pipeline.review.store import DecisionIn, ReviewStore

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
    token = invoke("tokens", "add", "ann", "--batches", "fake-b000", "--runs-dir", runs).output.strip()
    assert ReviewStore.for_runs(tmp_path).token(token).batches == ["fake-b000"]
    (listed,) = invoke("tokens", "list", "--runs-dir", runs).output.splitlines()
    assert listed.startswith("ann\t") and listed.endswith("\tfake-b000")
    assert invoke("labelstudio-export", str(tmp_path / "fake")).exit_code == 0
    tasks = json.loads((tmp_path / "fake/review/labelstudio/tasks.json").read_text())
    assert len(tasks) == 5 and (tmp_path / "fake/review/labelstudio/config.xml").read_text().startswith("<View>")
    imported = invoke("import", "fake", "--runs-dir", runs)
    assert imported.exit_code == 0 and "unreviewed=5" in imported.output


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    make_run(tmp_path, pairs=2)
    runs = str(tmp_path)
    assert_user_error(invoke("export", "missing", "--runs-dir", runs), "not a finished run")
    assert_user_error(invoke("export", "fake", "--runs-dir", runs, "--overlap", "2"), "--overlap")
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
                      "exactly one of --accept or --reject")
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
