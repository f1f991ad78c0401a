"""A preview takes reviewed-and-accepted pairs beside unreviewed ones: its card's banner counts them from the
rows (`review_state`), as the Review section does, instead of saying no pair was reviewed."""

from __future__ import annotations

from pipeline.release.card import render_card
from tests.release.test_release_card import body, manifest, row


def banner(card: str) -> str:
    return " ".join(line.lstrip("> ") for line in body(card).splitlines() if line.startswith(">"))


def test_a_preview_of_mostly_accepted_pairs_counts_the_unreviewed_ones():
    rows = [row(i) for i in range(10)] + [row(i, review_state="unreviewed") for i in range(10, 12)]
    card = render_card(manifest(12, preview=True), rows)

    text = banner(card)
    assert "2 of 12 pairs have NOT been reviewed by people" in text
    assert "the other 10 were reviewed and accepted" in text
    assert "these 12 pairs have NOT been reviewed" not in text
    assert "(no human review)" not in card and "10 accepted pairs, 2 never reviewed" in card


def test_a_preview_of_unreviewed_pairs_only_says_none_was_reviewed():
    card = render_card(manifest(3, preview=True), [row(i, review_state="unreviewed") for i in range(3)])

    assert "Preview release: these 3 pairs have NOT been reviewed by people." in banner(card)
    assert "(no human review)" in card


def test_a_preview_whose_pairs_were_all_accepted_does_not_call_them_unreviewed():
    card = render_card(manifest(2, preview=True), [row(1), row(2)])

    text = banner(card)
    assert "all 2 of its pairs were reviewed and accepted" in text and "NOT been reviewed" not in text


def test_a_reviewed_release_has_no_banner():
    assert banner(render_card(manifest(2), [row(1), row(2)])) == ""
