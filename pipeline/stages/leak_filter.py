"""The VSIL leak filter: scores come from the detector, the verdict from a threshold.

Scores and verdict are stored apart (Decision.scores / .score vs .verdict), so
a researcher can re-decide at another threshold without recomputing.
"""

from __future__ import annotations

from pipeline.detect.detector import LeakDetector, LeakScore
from pipeline.records import CandidatePair, Decision, Verdict


class LeakFilter:
    stage = "leak_filter"

    def __init__(self, detector: LeakDetector, threshold: float | None = None):
        self.detector = detector
        self.threshold = detector.threshold if threshold is None else threshold

    def leaks(self, score: LeakScore) -> bool:
        return score.score >= self.threshold

    def decision(self, pair: CandidatePair, score: LeakScore, *, stage: str, attempt: int,
                 reason: str | None = None) -> Decision:
        leaky = self.leaks(score)
        if reason is None:
            reason = (f"leaks: score {score.score:.3f} >= {self.threshold:.3f}" if leaky
                      else f"leak-free: score {score.score:.3f} < {self.threshold:.3f}")
        return Decision(
            item_id=pair.id, seed_id=pair.seed_id, stage=stage, text=pair.final_query,
            attempt=attempt, scores=dict(score.signals), score=score.score,
            threshold=self.threshold, verdict=Verdict.drop if leaky else Verdict.keep,
            reason=reason, spans=tuple(score.spans), backend=self.detector.backend,
            model=self.detector.model, prompt_hash=getattr(self.detector, "prompt_hash", ""),
            detector_version=self.detector.version,
        )
