"""The card's release drops: split by reason code only where the release's decisions account for the
manifest's whole count; otherwise the manifest's total stands on one line, never a smaller sum."""

from __future__ import annotations

import pandas as pd

from pipeline.release.card import render_card
from tests.release.test_release_card import manifest, row, table_rows

FINAL = "final filtration (query and image match, harmful, categorised right)"


def final_filter_decisions(codes: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"item_id": [f"d{i}" for i in range(len(codes))], "stage": "final_filter",
                         "verdict": "drop", "code": codes, "backend": "rules", "model": "m"})


def final_filter_lines(dropped: int, codes: list[str]) -> list[list[str]]:
    dropped_counts = {"not_taken_by_review": {}, "same_id": 0, "final_filter": dropped, "leaks": 0,
                      "image_duplicate": 0, "query_duplicate": 0}
    card = render_card(manifest(2, dropped=dropped_counts), [row(1), row(2)],
                       decisions=final_filter_decisions(codes))
    return table_rows(card, FINAL)


def test_drops_the_decisions_do_not_all_record_keep_the_manifests_total():
    """The manifest says 3 pairs were dropped; decisions.parquet holds only 2 of them (a release
    from before every drop was recorded). Splitting would show 2 where 3 were left out."""
    assert final_filter_lines(3, ["release.mismatch", "release.benign"]) == [[FINAL, "—", "3"]]


def test_drops_the_decisions_account_for_are_split_by_reason_code():
    lines = final_filter_lines(3, ["release.mismatch", "release.benign", "release.mismatch"])
    assert lines == [[FINAL, "`release.mismatch`", "2"], [FINAL, "`release.benign`", "1"]]
