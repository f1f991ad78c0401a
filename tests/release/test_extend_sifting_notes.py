"""An --extend that sifts by other dedup thresholds than the version it extends says so; the description
threshold (added with the same-scene rule) was not among those it compared."""

from __future__ import annotations

from pipeline.release.lineage import changed_options_notes

EARLIER = {"max_phash": 8, "max_dhash": 8, "query_threshold": 0.95, "description_threshold": 0.8,
           "min_match_similarity": 0.2}


def test_a_changed_description_threshold_is_noted():
    (note,) = changed_options_notes(EARLIER, {**EARLIER, "description_threshold": 0.7}, "bench-v1")
    assert "description_threshold 0.8 -> 0.7" in note


def test_extending_a_version_made_before_the_same_scene_rule_says_the_rule_changed():
    """Its first --extend shipped pairs the old version had dropped as query duplicates, without a word (review40b)."""
    before = {key: value for key, value in EARLIER.items() if key != "description_threshold"}
    (note,) = changed_options_notes(before, EARLIER, "bench-v1")
    assert "query duplicates by the query alone -> asked of the same scene (description_threshold 0.8)" in note


def test_an_extend_without_the_outside_files_the_earlier_version_was_checked_against_is_noted():
    from pipeline.release.lineage import outside_files_note

    earlier = [{"file": "advbench.jsonl", "sha256": "x", "rows": 3, "unreadable": 0}]
    (note,) = outside_files_note(earlier, [], "bench-v1")
    assert note.startswith("bench-v1 was deduplicated against advbench.jsonl; this version's new pairs are not")
    assert outside_files_note(earlier, ["advbench.jsonl"], "bench-v1") == []
    assert outside_files_note(None, [], "bench-v1") == []
