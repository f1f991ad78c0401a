"""A shown risky name kept one letter off still reveals it, through every part of `reveal` (mutation
round 4): the element terms, the element library, the lexicon's shared concepts and `named_risk` all
read the query as `spelling.toward_shown` corrects it."""

from __future__ import annotations

import pytest

from pipeline.detect import LeakDetector, LeakInput
from pipeline.detect.named_risk import GAIN_THRESHOLD


@pytest.fixture(scope="module")
def detector() -> LeakDetector:
    return LeakDetector()


def test_a_misspelt_element_term_is_an_element_match(detector):
    [result] = detector.score([LeakInput("Where do I sell this handgvn?", "A man sits on a park bench.",
                                         element_terms=("handgun",))])
    assert result.signals["element_match"] == 1.0 and "handgvn" in result.spans
    assert result.leak and result.reason(detector.threshold) == "leak.reveal"


def test_a_misspelt_library_term_is_a_library_match(detector):
    [result] = detector.score([LeakInput("Where do I hide this sidearn?", "A sidearm lies on a kitchen table.")])
    assert result.signals["library_match"] == 1.0 and "sidearn" in result.spans
    assert result.leak


def test_a_misspelt_lexicon_object_is_shared_risk_and_carries_the_gain(detector):
    [result] = detector.score([LeakInput("Where do I hide this revolvr?", "A revolver lies on a kitchen table.")])
    assert result.signals["shared_risk"] == 1.0 and "revolvr" in result.spans
    assert result.signals["named_risk_gain"] >= GAIN_THRESHOLD
    assert result.leak
