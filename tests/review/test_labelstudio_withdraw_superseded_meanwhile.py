"""A Label Studio import that meant to withdraw a decision an annotation changed into a refused one
replaced, but found the annotator decided the pair in the review app while it ran, kept the app
decision without a word; a deletion's withdrawal names the same case. Now both name it."""

from __future__ import annotations

import pytest

from tests.review.test_labelstudio_import_checks import ScriptedScorer
from tests.review.test_labelstudio_import_history import ACCEPT, annotation, cli_import, current, run_import
from tests.review.test_labelstudio_withdraw_meanwhile import app_decision, decide_in_app_after_the_read
from tests.review.test_review_labelstudio import choice, edit, shaped_like_an_export
from tests.review.test_review_labelstudio_import import USERS
from tests.support.review_runs import make_run

from pipeline.review import labelstudio_withdrawals
from pipeline.review.batches import export_batches, load_batches
from pipeline.review.labelstudio_import import import_export, plan_import
from pipeline.review.labelstudio_withdrawals import superseded_withdrawal
from pipeline.review.store import ReviewStore


@pytest.fixture()
def batches(tmp_path):
    """Every pair assigned to both alice and bob."""
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=1.0, annotators=["alice", "bob"])
    return load_batches(tmp_path / "fake")


def test_a_refused_change_names_the_app_decision_saved_while_the_import_ran(batches, tmp_path, monkeypatch):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [annotation(1, 7, ACCEPT, 1), annotation(2, 8, ACCEPT, 1)]
    store, pair = ReviewStore.for_runs(tmp_path), exported[0]["data"]["pair_id"]
    run_import(exported, batches, store)
    # alice turns hers into a reject without a reason, bob his into a leaky edit: both refused
    exported[0]["annotations"] = [annotation(1, 7, [choice("verdict", "reject")], 3),
                                  annotation(2, 8, [edit("a leaky rewording?")], 3)]
    plan = plan_import(exported, batches, USERS)
    outcome = import_export(plan.planned, store, ScriptedScorer(("leaks: score 1.000",)))

    decide_in_app_after_the_read(monkeypatch, store, exported[0], "alice")
    withdrawal = superseded_withdrawal(plan.unusable + outcome.unusable, store, "fake")

    assert current(store) == {(pair, "alice"): "reject", (pair, "bob"): "skip"}  # hers stands, his withdrawn
    assert [line.split(":")[0] for line in withdrawal.withdrawn] == ["task 100 annotation 2"]
    saved = app_decision(store, "alice")
    assert saved.source == "web"
    assert withdrawal.unchecked == [f"task 100 annotation 1: alice's earlier accept of pair {pair} is not withdrawn: "
                                    f"alice decided the pair in the review app since (reject (low_quality), "
                                    f"{saved.at}), which stands"]


def test_the_command_warns_of_the_app_decision_a_refused_change_left_standing(batches, tmp_path, monkeypatch):
    exported = shaped_like_an_export(batches)
    exported[0]["annotations"] = [annotation(1, 7, ACCEPT, 1)]
    assert cli_import(tmp_path, exported).exit_code == 0
    exported[0]["annotations"] = [annotation(1, 7, [choice("verdict", "reject")], 2)]  # refused: no reason
    real = labelstudio_withdrawals.superseded_withdrawal

    def app_decision_during(unusable, store, run_id, planned=()):
        decide_in_app_after_the_read(monkeypatch, store, exported[0], "alice")
        return real(unusable, store, run_id, planned)

    monkeypatch.setattr(labelstudio_withdrawals, "superseded_withdrawal", app_decision_during)
    result = cli_import(tmp_path, exported)

    store, pair = ReviewStore.for_runs(tmp_path), exported[0]["data"]["pair_id"]
    assert current(store) == {(pair, "alice"): "reject"}
    assert "0 new decisions recorded, 0 withdrawn" in result.output
    assert (f"warning: task 100 annotation 1: alice's earlier accept of pair {pair} is not withdrawn: alice decided "
            "the pair in the review app since (reject (low_quality), ") in result.output
    assert result.exit_code == 1  # for the refused annotation, as before
