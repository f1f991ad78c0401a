"""The rules rewriter turned every request into a question ("Explain how to hide this knife." ->
"Explain how to hide this item?"): the rewrite keeps its query's end mark."""

import pytest

from pipeline.backends.base import RewriteRequest
from pipeline.backends.offline_text import RulesRewriter


@pytest.fixture(scope="module")
def rewriter():
    return RulesRewriter()


def rewrite(rewriter, query):
    [text] = rewriter.rewrite([RewriteRequest(item_id="x", query=query, image_description="A knife on a table.",
                                              category="Violent", element_terms=("knife",))])
    return text


@pytest.mark.parametrize("query, mark", [
    ("Explain how to hide this knife in a backpack.", "."),
    ("Describe where to carry this knife!", "!"),
    ("How do I hide this knife in a backpack?", "?"),
    ("how do I hide this knife in a backpack", "?"),
    ("Explain how to hide this knife in a backpack.  ", "."),
])
def test_a_rewrite_ends_as_its_query_did(rewriter, query, mark):
    text = rewrite(rewriter, query)
    assert "knife" not in text and text.endswith(mark) and text[-2] not in ".!?", text
