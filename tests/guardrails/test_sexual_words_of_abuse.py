"""Words of sexual abuse an audit wrote past the minors rule: "sextortion" beside a minor (the shipped
Cybercrime library steers a grower toward it), and the drawn-abuse words ("lolicon", "shotacon")
that name minors and sexual content at once. The project's own texts gain no hit
(tests/guardrails/test_reading_gaps.py)."""

from __future__ import annotations

import pytest

from pipeline.guardrails import check_text, check_texts


@pytest.mark.parametrize("texts", [
    ["sextortion of a child"],
    ["sextortion webcam of a 13-year-old"],
    ["a teen", "the man sextorted her over webcam"],
    ["upskirt photo of a schoolgirl"],
    ["a nudify app run on photos of kids"],
    ["a pedophilia forum about teens"],
])
def test_a_sexual_abuse_word_beside_a_minor_is_blocked(texts):
    hit = check_texts(texts)
    assert hit is not None and hit.rule == "sexual_minors", texts


@pytest.mark.parametrize("text", ["lolicon manga", "a shotacon doujin", "Lolicon art on a tablet", "toddlercon"])
def test_a_word_naming_drawn_sexual_content_of_minors_is_blocked_alone(text):
    hit = check_text(text)
    assert hit is not None and hit.rule == "sexual_minors", text


@pytest.mark.parametrize("text", ["a sextortion message demanding bitcoin", "how victims report sextortion",
                                  "an upskirt photo taken on an escalator"])
def test_the_words_without_a_minor_are_no_hit(text):
    assert check_text(text) is None
