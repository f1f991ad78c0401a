"""The v2 card's role table said "carried from v1: its card says" for the release leak check of the
carried rows, though those rows hold its detector version and threshold (and the card's leak-filter table
counts them from there): a v2-only reader was sent to a card they may not have. It now states them."""

from __future__ import annotations

import pandas as pd

from pipeline.release.card import render_card
from tests.release.test_release_card import manifest, row, table_rows

ROLE = "leak check (release)"


def card_of(rows):
    decisions = pd.DataFrame({"item_id": ["p3", "p3"], "stage": ["final_filter", "release_leak_check"],
                              "verdict": ["keep"] * 2, "code": [""] * 2, "backend": ["rules", "offline-detector"],
                              "model": ["m", "m"]})
    return render_card(manifest(len(rows), version=2, extends=1, carried_rows=len(rows) - 1,
                                final_filter={"backend": "rules", "model": "m", "kept": 1}), rows, decisions=decisions)


def test_the_carried_rows_release_leak_check_is_stated_from_the_rows():
    card = card_of([row(1, added_in=1), row(2, added_in=1), row(3, added_in=2)])

    assert table_rows(card, ROLE) == [
        [ROLE, "`offline-detector`", "`m`", "1", "a local lexicon + MiniLM detector (no language model)"],
        [ROLE, "—", "carried from v1: detector `offline-7+aaa+bbb` at 0.5 (its rows' `detector_version`, "
         "`leak_threshold`)", "2", ""]]
    # the checks the rows hold nothing of still point to the card of the version that made them
    assert ["final filter", "—", "carried from v1: its card says", "2", ""] in table_rows(card, "final filter")


def test_carried_rows_made_before_the_leak_check_columns_still_point_to_their_card():
    card = card_of([row(1, added_in=1, detector_version=None, leak_threshold=None), row(3, added_in=2)])

    assert [ROLE, "—", "carried from v1: its card says", "1", ""] in table_rows(card, ROLE)
