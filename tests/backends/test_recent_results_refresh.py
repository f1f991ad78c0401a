"""The encoders' cache keeps what was read most recently, not what was computed first (mutation round 3)."""

from pipeline.backends.text_batches import RecentResults


def test_a_text_read_again_stays_and_the_least_recently_read_leaves():
    calls = []

    def length(texts):
        calls.append(list(texts))
        return [len(text) for text in texts]

    recent = RecentResults(size=2)
    recent.get(["a"], length)
    recent.get(["bb"], length)
    recent.get(["a"], length)  # a hit: "a" is now the most recent
    recent.get(["ccc"], length)  # "bb" leaves
    assert recent.get(["a"], length) == [1]
    assert recent.get(["bb"], length) == [2]
    assert calls == [["a"], ["bb"], ["ccc"], ["bb"]]

