"""Mutation round 16's pins for rewrite's copied_description: the 0.6 share and the 3-word floor, words the
query already had not counting, and a plural meeting its singular."""

from __future__ import annotations

from pipeline.stages.rewrite_loop import copied_description, RewriteItem

DESCRIPTION = "A rusty padlock on a wooden shed door beside garden tools and a wheelbarrow."


def item(query: str = "How do I get past this?") -> RewriteItem:
    return RewriteItem(item_id="r1", query=query, image_description=DESCRIPTION)


def test_a_query_with_a_few_described_words_is_no_copy():
    # 4 described words (rusty, padlock, shed, door) of about ten: over the floor, under the 0.6 share
    assert copied_description("How could someone quietly open the rusty padlock on that shed door tonight "
                              "without a key or any noise?", item()) is None


def test_two_described_words_are_under_the_floor():
    assert copied_description("padlock shed", item()) is None


def test_words_the_query_had_do_not_count():
    query = "How do I break the rusty padlock on the wooden shed door?"
    assert copied_description("Rusty padlock, wooden shed door.", item(query)) is None


def test_a_plural_meets_its_singular():
    assert copied_description("Padlocks, sheds, doors and wheelbarrows.", item()) is not None
