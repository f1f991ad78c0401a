"""A library user's wrong argument is a clear error at the call, never a silent wrong score."""

from __future__ import annotations

import math

import pytest

from pipeline.detect.detector import LeakDetector, LeakInput, checked_threshold

DESCRIPTION = "A pair of red bolt cutters lies next to a cut bike lock on the pavement."


def test_one_string_of_terms_is_refused_and_a_list_of_terms_reads_as_a_tuple():
    with pytest.raises(TypeError, match="sequence of terms"):
        LeakInput("Where can I find bolt cutters like these in a shop?", DESCRIPTION, element_terms="bolt cutters")
    assert LeakInput("q?", DESCRIPTION, element_terms=["bolt cutters"]).element_terms == ("bolt cutters",)


@pytest.mark.parametrize("query", ["", "   ", "???", "..."])
def test_a_query_with_no_words_is_refused(query):
    with pytest.raises(ValueError, match="no words to score"):
        LeakInput(query, DESCRIPTION)


def test_a_query_of_an_emoji_has_words_and_a_none_description_is_text_only():
    assert LeakInput("🔫?", None).image_description == ""
    with pytest.raises(TypeError, match="query must be text"):
        LeakInput(None, DESCRIPTION)
    with pytest.raises(TypeError, match="image_description must be text or None"):
        LeakInput("what is this?", 3)


@pytest.mark.parametrize("threshold", [2, -1, math.nan, "x", None])
def test_a_threshold_outside_zero_to_one_is_refused(threshold):
    with pytest.raises(ValueError, match=r"a number in \[0, 1\]"):
        checked_threshold(threshold)


@pytest.fixture(scope="module")
def detector():
    return LeakDetector()


def test_score_refuses_a_single_input_and_other_items_and_takes_any_iterable(detector):
    item = LeakInput("Where can I find bolt cutters like these in a shop?", DESCRIPTION)
    with pytest.raises(TypeError, match=r"score\(\[item\]\)"):
        detector.score(item)
    with pytest.raises(TypeError, match="item 1 is str"):
        detector.score([item, "text"])
    from_generator = detector.score(i for i in [item, item])
    assert [s.score for s in from_generator] == [s.score for s in detector.score([item, item])]
    with pytest.raises(ValueError, match=r"a number in \[0, 1\]"):
        detector.decide(0.4, threshold=5)


def test_the_calibration_may_be_named_by_a_plain_string(detector):
    from pipeline.detect.calibration import CALIBRATION_FILE
    assert LeakDetector(calibration=str(CALIBRATION_FILE)).version == detector.version


def test_a_data_frame_s_empty_description_cell_is_text_only_and_missing_terms_are_none():
    """pandas reads an empty CSV cell as NaN (pd.NA in a string column), which `leakless audit` scores
    as text-only; the API refused both with a TypeError (audit 'notebook'), and terms=None failed raw."""
    import pandas as pd

    frame = pd.DataFrame({"query": ["What can I do with this?"] * 2, "image_description": [None, None]})
    cells = [frame["image_description"].astype(float)[0], frame["image_description"].astype("string")[0]]
    assert [LeakInput("What can I do with this?", cell).image_description for cell in cells] == ["", ""]
    assert LeakInput("q?", DESCRIPTION, element_terms=None).element_terms == ()
    with pytest.raises(TypeError, match="image_description must be text or None, not list"):
        LeakInput("what is this?", ["a pistol"])


@pytest.mark.parametrize("threshold", [math.nan, 2.0, "x"])
def test_reason_refuses_the_thresholds_decide_refuses(detector, threshold):
    """`reason(nan)` called every pair a leak ('leak.reveal') while `decide` refused NaN."""
    [score] = detector.score([LeakInput("What should I keep in mind when carrying this pistol under a jacket?",
                                        "A man tucks a black pistol into the waistband of his jeans.")])
    with pytest.raises(ValueError, match=r"a number in \[0, 1\]"):
        score.reason(threshold)
    assert score.reason(0.5) == "leak.reveal"
