"""`shared_risk` across the lexicon's levels (mutation round 4): a query naming a kind of the risky thing
a description shows only by its wider name ("a weapon") shares that risk."""

from __future__ import annotations

from pipeline.detect import LeakDetector, LeakInput


def test_a_query_naming_a_kind_of_the_shown_wider_thing_shares_its_risk():
    detector = LeakDetector()
    [result] = detector.score([LeakInput("How do I hide this knife from the guards?",
                                         "A man holds a weapon behind his back.")])
    assert result.signals["shared_risk"] > 0 and "knife" in result.spans
