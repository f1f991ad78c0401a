"""The grouping and the cache both MiniLM encoders use."""

from __future__ import annotations

from pipeline.backends.text_batches import RecentResults, by_token_count


def test_texts_are_grouped_by_token_count_in_first_seen_order():
    assert by_token_count([[1, 2], [3], [4, 5], [6, 7, 8], [9]]) == [[0, 2], [1, 4], [3]]


def test_each_distinct_missing_text_is_computed_once_and_the_oldest_results_leave_first():
    calls = []

    def length(texts):
        calls.append(list(texts))
        return [len(text) for text in texts]

    recent = RecentResults(size=2)
    assert recent.get(["ab", "c", "ab"], length) == [2, 1, 2]
    assert recent.get(["c", "def"], length) == [1, 3]   # "ab" is now the oldest and leaves
    assert recent.get(["ab"], length) == [2]
    assert calls == [["ab", "c"], ["def"], ["ab"]]


def test_a_cache_of_size_zero_still_answers():
    assert RecentResults(size=0).get(["x", "yy"], lambda texts: [len(t) for t in texts]) == [1, 2]
