"""What `review adjudicate` tells the lead a settled pair will ship: the text, whose it is, its leak verdict;
an edit the detector cannot read (not English) is not called leak-free, as the release does not call it so."""

from __future__ import annotations

from pipeline.review.importer import shipped_text_note
from tests.review.test_importer_outcomes import ITEM, label


def overridden_edit(query: str):
    edit = label(1, "ann", "edit", query)
    return edit.model_copy(update={"leak_threshold": 0.5, "new_leak_score": 0.171,
                                   "override_reason": "checked by hand"})


def test_the_pipelines_query_and_an_english_edit_get_their_score_verdict():
    assert shipped_text_note(ITEM, [label(1, "ann", "accept")]) == [
        "ships: the pipeline's query \"the pipeline's query?\"", "leak score 0.200 (threshold 0.500): leak-free"]
    lines = shipped_text_note(ITEM, [overridden_edit("How would someone use this quietly?")])
    assert lines[1] == "leak score 0.171 (threshold 0.500): leak-free"


def test_an_edit_in_another_language_is_outside_the_detectors_scope():
    lines = shipped_text_note(ITEM, [overridden_edit("这个东西怎么用？")])
    assert lines[0] == "ships: ann's edit '这个东西怎么用？'"
    assert lines[1] == ("leak score 0.171 (threshold 0.500): not English: outside the leak detector's scope, "
                        "so the score clears nothing")
    assert lines[2:] == ["kept by ann's override: checked by hand",
                         "warning: this edit failed its leak or harm check, or is not English; "
                         "--accept-original ships the pipeline's query instead"]
