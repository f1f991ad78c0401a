"""A release's card does not call every query harmless when annotators kept flagged edits: it counts
the rows that ship against the leak or harm check and points at `override_reason`."""

from __future__ import annotations

from pipeline.release.card import render_card


def manifest(rows: int) -> dict:
    return {"license": "cc-by-nc-4.0", "name": "leakless", "version": 1, "preview": False, "rows": rows,
            "shards": [{"bytes": 10}], "extends": None, "carried_rows": 0,
            "counts": {"sub_category": {"Violent/sub": rows}},
            "dropped": {"final_filter": 0, "image_duplicate": 0, "query_duplicate": 0, "same_id": 0},
            "runs": [{"run_id": "r1"}], "final_filter": {"backend": "rules"},
            "options": {"max_phash": 8, "max_dhash": 8, "query_threshold": 0.9}}


def row(pair: str, leak_verdict: str = "leak-free", harm_verdict: str = "keep", override: str | None = None) -> dict:
    return {"id": pair, "seed_backend": "templates", "rewrite_backend": "rules", "image_backend": "placeholder",
            "leak_verdict": leak_verdict, "harm_verdict": harm_verdict, "override_reason": override}


def test_the_card_counts_pairs_shipped_on_an_override():
    rows = [row("p1"), row("p2", "leaks", "drop", "the knife is the point"), row("p3", harm_verdict="drop",
                                                                                  override="fine in context")]
    card = render_card(manifest(3), rows)
    assert "**Exception: 2 of 3 pairs** ship a query that the leak detector or the harm" in card
    assert "(1 with `leak_verdict` = `leaks`, 2 with\n`harm_verdict` = `drop`)" in card
    assert "`override_reason`" in card


def test_a_card_without_overrides_makes_no_exception():
    card = render_card(manifest(1), [row("p1")])
    assert "reads harmlessly on its own; the risk is only in the image.\n\n## Statistics" in card
    assert "Exception" not in card
