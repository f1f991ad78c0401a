"""What the Label Studio import checks beyond an annotation's shape (mutation round 3): an edit changed
in Label Studio is recorded again, an edit that fails only the harm check is refused like a leaking one,
and an "edit" that gives back the pipeline's own query is no edit."""

from __future__ import annotations

import pytest

from tests.review.test_review_labelstudio import choice, edit, shaped_like_an_export
from tests.support.review_runs import make_run

from pipeline.review.batches import export_batches, load_batches
from pipeline.review.labelstudio_import import import_export, plan_import
from pipeline.review.scoring import EditCheck
from pipeline.review.store import ReviewStore

USERS = {"7": "alice"}


class ScriptedScorer:
    """Every edit gets the same check: no MiniLM, and the harm check's word is the test's to choose."""

    def __init__(self, problems: tuple[str, ...] = ()):
        self.problems = problems

    def check(self, item, query):
        return EditCheck(score=0.1, threshold=0.5, spans=(), detector_version="test",
                         harm_verdict="drop" if self.problems else "keep", harm_reason="; ".join(self.problems),
                         intent_similarity=0.9, problems=self.problems)


@pytest.fixture()
def batches(tmp_path):
    export_batches(make_run(tmp_path, pairs=2), batch_size=2, annotators=["alice"])
    return load_batches(tmp_path / "fake")


def annotate(exported, *result, updated_at: str | None = None) -> None:
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": list(result),
                                   **({"updated_at": updated_at} if updated_at else {})}]


def test_an_edit_whose_words_changed_in_label_studio_is_recorded_again(batches, tmp_path):
    exported, store = shaped_like_an_export(batches), ReviewStore.for_runs(tmp_path)
    annotate(exported, edit("what is this tool for?"), updated_at="2026-01-01T00:00:00Z")
    assert import_export(plan_import(exported, batches, USERS).planned, store, ScriptedScorer()).added == 1
    annotate(exported, edit("what is this object for?"), updated_at="2026-01-02T00:00:00Z")

    outcome = import_export(plan_import(exported, batches, USERS).planned, store, ScriptedScorer())

    assert (outcome.added, outcome.refused) == (1, [])
    (current,) = store.current(run_id="fake")
    assert (current.action, current.edited_query) == ("edit", "what is this object for?")


def test_an_edit_that_fails_only_the_harm_check_is_refused(batches, tmp_path):
    exported, store = shaped_like_an_export(batches), ReviewStore.for_runs(tmp_path)
    annotate(exported, choice("verdict", "accept"), edit("what is the weather like today?"))
    drifted = ScriptedScorer(problems=("intent drifted (similarity 0.100 < 0.350)",))

    outcome = import_export(plan_import(exported, batches, USERS).planned, store, drifted)

    assert outcome.added == 0 and store.current(run_id="fake") == []
    (line,) = outcome.refused
    assert line.startswith("task 100 annotation 1: the edit fails its check (intent drifted")
    assert "override reason" in line


@pytest.mark.parametrize("verdict, action", [([choice("verdict", "accept")], "accept"), ([], "skip")])
def test_an_edit_back_to_the_pipelines_query_is_no_edit(batches, verdict, action):
    exported = shaped_like_an_export(batches)
    annotate(exported, *verdict, edit(f"  {exported[0]['data']['query']}\n"))

    (planned,) = plan_import(exported, batches, USERS).planned

    assert (planned.decision.action, planned.decision.edited_query) == (action, None)
