"""The VSIL leak filter: scores come from the detector (and the VSIL-judge role when one
is configured), the verdict from a threshold.

Scores and verdict are stored apart (Decision.scores / .score vs .verdict), so
a researcher can re-decide at another threshold without recomputing.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.backends.base import ItemError
from pipeline.detect.detector import LeakDetector, LeakInput, LeakScore
from pipeline.records import CandidatePair, Decision, Verdict

JUDGE_SIGNAL = "judge_leaks"  # 1.0 when the VSIL judge says the query leaks, 0.0 when not, -1.0 on error


class LeakFilter:
    stage = "leak_filter"

    def __init__(self, detector: LeakDetector, threshold: float | None = None, judge=None):
        self.detector = detector
        self.threshold = detector.threshold if threshold is None else threshold
        self.judge = judge  # e.g. pipeline.backends.llm_text.LLMVSILJudge
        parts = [detector] + ([judge] if judge else [])
        self.backend = "+".join(part.backend for part in parts)
        self.model = "+".join(part.model for part in parts)
        self.prompt_hash = judge.prompt_hash if judge else ""

    def score(self, items: list[LeakInput]) -> list[LeakScore]:
        scores = self.detector.score(items)
        if not self.judge or not items:
            return scores
        judged = []
        for score, verdict in zip(scores, self.judge.judge(items)):
            if isinstance(verdict, ItemError):  # the detector alone decides; the failure shows as -1
                judged.append(replace(score, signals={**score.signals, JUDGE_SIGNAL: -1.0}))
                continue
            spans = tuple(dict.fromkeys(score.spans + tuple(verdict.output.leaked_spans)))
            judged.append(replace(score, spans=spans,
                                  signals={**score.signals, JUDGE_SIGNAL: float(verdict.output.leaks)}))
        return judged

    def leaks(self, score: LeakScore) -> bool:
        return score.score >= self.threshold or score.signals.get(JUDGE_SIGNAL, 0.0) == 1.0

    def decision(self, pair: CandidatePair, score: LeakScore, *, stage: str, attempt: int,
                 reason: str | None = None) -> Decision:
        leaky = self.leaks(score)
        if reason is None:
            judge = " (VSIL judge: leaks)" if score.signals.get(JUDGE_SIGNAL) == 1.0 else ""
            reason = (f"leaks: score {score.score:.3f} vs threshold {self.threshold:.3f}{judge}" if leaky
                      else f"leak-free: score {score.score:.3f} < {self.threshold:.3f}")
        return Decision(
            item_id=pair.id, seed_id=pair.seed_id, stage=stage, text=pair.final_query,
            attempt=attempt, scores=dict(score.signals), score=score.score,
            threshold=self.threshold, verdict=Verdict.drop if leaky else Verdict.keep,
            reason=reason, spans=tuple(score.spans), backend=self.backend, model=self.model,
            prompt_hash=self.prompt_hash, detector_version=self.detector.version,
        )
