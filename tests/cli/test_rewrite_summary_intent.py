"""`leakless rewrite`'s summary counts the `clean` rewrites a build's harm check would drop for lost intent:
`clean` speaks for the leak only, and 7 of 66 such rows of a user's file went uncounted."""

from __future__ import annotations

from pathlib import Path

from pipeline.cli.rewrite_output import intent_drifted, summary

STATUSES = ["clean", "clean", "clean", "unchanged", "harm_cues", "clean"]
SIMILARITIES = [0.2, 0.35, 0.9, 0.1, 0.1, None]


def test_only_clean_rewrites_under_the_floor_count():
    assert intent_drifted(STATUSES, SIMILARITIES, 0.35) == (1, 0.35)  # at the floor is kept, as the build keeps it
    assert intent_drifted(STATUSES, SIMILARITIES, 0.95) == (3, 0.95)  # unchanged and harm_cues rows never count


def test_the_summary_names_them_beside_the_leak_free_count():
    line = summary(STATUSES, 0.5, "rules", Path("out.parquet"), intent_drifted(STATUSES, SIMILARITIES, 0.35))
    assert line.startswith("4 of 6 queries rewritten leak-free (1 of them with intent_similarity under 0.35, the floor "
                           "below which a build's harm check drops a rewrite for lost intent: read them) (threshold")
    assert "intent_similarity" not in summary(STATUSES, 0.5, "rules", Path("out.parquet"),
                                              intent_drifted(STATUSES, SIMILARITIES, 0.1))
