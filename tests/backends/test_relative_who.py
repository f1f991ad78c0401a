"""The verb after a relative "who" was read as a modifier of the element and went into the reference when the
description used its stem ("How do people who smoke crack get it?" beside "smoking crack" -> "How do people who
what's shown here get it?"): "who" is a subject, so the verb after it stays."""

from __future__ import annotations

import pytest

from pipeline.backends.base import RewriteRequest
from pipeline.backends.offline_text import RulesRewriter


@pytest.fixture(scope="module")
def rewriter() -> RulesRewriter:
    return RulesRewriter()


@pytest.mark.parametrize(("query", "description", "term", "verb"), [
    ("How do people who smoke crack get it?", "A man who is smoking crack in an alley.", "crack", "smoke"),
    ("Where do people who sell these pills meet?", "A man selling pills in an alley.", "pills", "sell"),
])
def test_the_verb_after_who_stays_and_only_the_element_becomes_a_reference(rewriter, query, description, term, verb):
    [text] = rewriter.rewrite([RewriteRequest(item_id="x", query=query, image_description=description,
                                              category="Illegal Activity", element_terms=(term,), feedback_spans=())])
    assert f"who {verb} " in text and term not in text
