"""A reply's reasoning is left out up to its first closing tag only: the answer after it is kept whole."""

from pipeline.llm.messages import without_reasoning


def test_only_the_leading_reasoning_block_is_left_out():
    reply = "<think>they ask about tags</think>I won't help with that. Note that </think> closes a block."
    assert without_reasoning(reply) == "I won't help with that. Note that </think> closes a block."

