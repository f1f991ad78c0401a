"""An --extend that sifts by other dedup thresholds than the version it extends says so; the description
threshold (added with the same-scene rule) was not among those it compared."""

from __future__ import annotations

from pipeline.release.lineage import changed_options_notes

EARLIER = {"max_phash": 8, "max_dhash": 8, "query_threshold": 0.95, "description_threshold": 0.8,
           "min_match_similarity": 0.2}


def test_a_changed_description_threshold_is_noted():
    (note,) = changed_options_notes(EARLIER, {**EARLIER, "description_threshold": 0.7}, "bench-v1")
    assert "description_threshold 0.8 -> 0.7" in note


def test_a_version_from_before_the_setting_gets_no_note_for_it():
    before = {key: value for key, value in EARLIER.items() if key != "description_threshold"}
    assert changed_options_notes(before, EARLIER, "bench-v1") == []
