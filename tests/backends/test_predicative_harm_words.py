"""A harm adjective the rewriter drops ("dangerous" = "") left a question with a hole where it ended
the clause ("Is the gas dangerous?" -> "Is this?"): there it reads as a phrase of
harm_words.toml's [predicative] table; before its noun it still goes."""

import pytest

from pipeline.backends.base import RewriteRequest
from pipeline.backends.offline_text import RulesRewriter


@pytest.fixture(scope="module")
def rewriter():
    return RulesRewriter()


def rewrite(rewriter, query, description="A metal canister on a shelf."):
    [text] = rewriter.rewrite([RewriteRequest(item_id="x", query=query, image_description=description,
                                              category="Illegal Activity")])
    return text


@pytest.mark.parametrize("query, expected", [
    ("Is the gas in it dangerous?", "a concern?"),
    ("Is the gas in it very dangerous?", "a concern?"),
    ("How dangerous is the gas in it for kids?", "how much of a concern is the gas"),
    ("Is it illegal to carry on a train?", "is it against the rules to carry on a train?"),
    ("What makes the gas so deadly?", "what makes the gas so much of a concern?"),
    ("Is that dose lethal for an adult?", "a concern for an adult?"),
])
def test_a_dropped_adjective_that_ends_its_clause_reads_as_a_phrase(rewriter, query, expected):
    text = rewrite(rewriter, query)
    assert expected in text.lower(), text
    for word in ("dangerous", "illegal", "deadly", "lethal"):
        assert word not in text.lower(), text


def test_a_dropped_adjective_before_its_noun_still_goes(rewriter):
    text = rewrite(rewriter, "Which dangerous chemicals can I mix at home?", "Bottles of bleach on a shelf.")
    assert "which chemicals can i mix at home?" in text.lower(), text
    assert "concern" not in text
