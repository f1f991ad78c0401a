"""A run whose every pair failed before the leak filter (a server down mid-rewrite) still names its leak
threshold in summary.md: its retried rewrite attempts were scored at the same one threshold."""

from __future__ import annotations

from pipeline.build_thresholds import summary_line
from pipeline.records import Decision, Verdict


def rewrite_attempt(threshold: float) -> Decision:
    return Decision(item_id="p1", seed_id="s1", stage="rewrite", attempt=1, score=1.0, threshold=threshold,
                    verdict=Verdict.drop, code="leak.reveal", reason="attempt 1 still leaks (score 1.000)",
                    backend="offline-detector", model="m", prompt_hash="")


def test_rewrite_attempts_alone_give_the_leak_threshold():
    config = {"leak_filter": {"threshold": None}, "backends": {"harm_check": "llm"}}
    assert summary_line(config, [rewrite_attempt(0.5)] * 7) == (
        "Thresholds: leak 0.5 (the detector's own: `leak_filter.threshold` unset).")
