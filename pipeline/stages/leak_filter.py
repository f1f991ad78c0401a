"""The VSIL leak filter: where a pair is dropped for leaking, at the build's one threshold.

Scores come from the detector (and the VSIL-judge role when one is configured); the
verdict is this stage's alone: a pair leaks when its score reaches
`leak_filter.threshold` (default: the detector's shipped threshold), or when the VSIL
judge says it leaks. The rewrite loop asks the same filter whether to try again, so a
`--set leak_filter.threshold=X` moves every leak verdict of a build.

Reason codes: `leak.text_harm` (the query alone reads as harmful: its text-harm score
reaches the threshold and is the larger part), `leak.reveal` (it gives away what the
image shows), `leak.judge` (the judge, under the threshold), `leak.none` (kept).

Scores and verdict are stored apart (Decision.scores / .score vs .verdict), so a
researcher can re-decide at another threshold without recomputing.

The judge's spans are model-written text the run would keep and send to the rewriter: the hard
block reads them first (`judge_spans`), as it reads a judge's explanation (`guardrails.kept_start`).
"""

from __future__ import annotations

from pipeline.batch import Batch
from pipeline.contracts import ItemError, Provenance, ReasonCode, StageName, VSILJudge, VSILQuestion
from pipeline.detect.detector import LeakDetector, LeakInput, checked_threshold, from_common_scale
from pipeline.guardrails import check_texts
from pipeline.records import CandidatePair, LeakScores
from pipeline.stages.filter import FilterStage, Judgement
from pipeline.stages.base import failure_text
from pipeline.stages.harm_check import harm_cues

JUDGE_SIGNAL = "judge_leaks"  # 1.0 when the VSIL judge says the query leaks, 0.0 when not, -1.0 on error
# how many of the VSIL judge's spans the hard block withheld (set only when it withheld any)
WITHHELD_SIGNAL = "judge_spans_withheld"


def judge_failed(leak: LeakScores) -> bool:
    return bool(leak.judge_error) or leak.signals.get(JUDGE_SIGNAL) == -1.0


LABEL_JOIN = "+"  # the detector's and the judge's labels in one: `offline-detector+openai-compatible`


def joined_models(models) -> str:
    """`detector-model+judge-model`, leaving out an empty one: an offline judge has no model, and a
    trailing "+" would name one that is not there."""
    return LABEL_JOIN.join(model for model in models if model)


def judge_spans(spans: tuple[str, ...], item: LeakInput) -> tuple[tuple[str, ...], int]:
    """(the VSIL judge's spans a run may keep, how many it may not). A model wrote them and need not
    have taken them from the query ("Robert Hughes 555-867-5304"); whatever a run keeps of them goes
    into decisions.parquet and the checkpoints, and to the rewriter as feedback. So each is read by
    the hard block beside the query and description it is kept with (a minor word in a span and a
    sexual word in the query are one hit), then the rest together; one it stops is dropped, not
    recorded and never fed back."""
    beside = [item.query, item.image_description]
    kept = [span for span in spans if not check_texts([span, *beside], item.category)]
    if kept and check_texts([*kept, *beside], item.category):  # spans that are one hit only together
        kept = []
    return tuple(kept), len(spans) - len(kept)


def withheld_note(leak: LeakScores) -> str:
    """What a decision says of the judge's spans the hard block withheld: how many, not what."""
    count = int(leak.signals.get(WITHHELD_SIGNAL, 0))
    if not count:
        return ""
    return f"; {count} VSIL judge span{'' if count == 1 else 's'} withheld by the guardrail"


def vsil_question(item: LeakInput) -> VSILQuestion:
    """The detector's input as the judge's record: a backend sits below the detector and cannot import it."""
    return VSILQuestion(query=item.query, image_description=item.image_description, category=item.category,
                        element_terms=tuple(item.element_terms))


class LeakFilterStage(FilterStage):
    name = StageName.leak_filter

    def __init__(self, detector: LeakDetector, threshold: float | None = None, judge: VSILJudge | None = None):
        self.detector = detector
        self.threshold = detector.threshold if threshold is None else checked_threshold(threshold)
        calibration = getattr(detector, "calibration", None)
        # What the one common threshold means for each score in its own units, beside the scores
        self.part_thresholds = {} if calibration is None else {
            "text_harm_probability_threshold": from_common_scale(self.threshold, calibration.text_harm_threshold),
            "reveal_raw_threshold": from_common_scale(self.threshold, calibration.reveal_threshold)}
        self.judge_role = judge  # e.g. pipeline.backends.llm_text.LLMVSILJudge
        parts = [detector] + ([judge] if judge else [])
        self.backend = LABEL_JOIN.join(part.backend for part in parts)
        self.model = joined_models(part.model for part in parts)
        self.prompt_hash = judge.prompt_hash if judge else ""
        self.detector_version = detector.version

    def score(self, items: list[LeakInput]) -> list[LeakScores]:
        scores = [LeakScores(score=s.score, text_harm=s.text_harm, reveal=s.reveal, signals=s.signals,
                             spans=s.spans, query=item.query, element_terms=item.element_terms)
                  for item, s in zip(items, self.detector.score(items))]
        if not self.judge_role or not items:
            return scores
        judged = []
        verdicts = self.judge_role.judge([vsil_question(item) for item in items])
        for item, score, verdict in zip(items, scores, verdicts):
            if isinstance(verdict, ItemError):  # the pair fails at the filter; the signal shows -1
                judged.append(score.model_copy(update={"signals": {**score.signals, JUDGE_SIGNAL: -1.0},
                                                       "judge_error": verdict}))
                continue
            kept, withheld = judge_spans(tuple(verdict.leaked_spans), item)
            signals = {**score.signals, JUDGE_SIGNAL: float(verdict.leaks),
                       **({WITHHELD_SIGNAL: float(withheld)} if withheld else {})}
            judged.append(score.model_copy(update={
                "spans": tuple(dict.fromkeys(score.spans + kept)), "signals": signals,
                "judged_by": verdict.made_by or self.configured_judge()}))
        return judged

    def configured_judge(self) -> Provenance:
        """Who answered when a verdict does not say: the judge as configured (a judge whose backend
        cannot answer with another model need not fill `made_by`)."""
        judge = self.judge_role
        return Provenance(backend=judge.backend, model=judge.model, prompt_hash=judge.prompt_hash)

    def verdict(self, leak: LeakScores) -> tuple[bool, str]:
        """(leaks, reason code): the one place the threshold is applied."""
        if leak.score >= self.threshold:
            text_part = leak.text_harm >= (leak.reveal or 0.0)  # the larger part, as `LeakScore.reason` says
            return True, ReasonCode.leak_text_harm if text_part else ReasonCode.leak_reveal
        if leak.signals.get(JUDGE_SIGNAL, 0.0) == 1.0:
            return True, ReasonCode.leak_judge
        return False, ReasonCode.leak_free

    def leaks(self, leak: LeakScores) -> bool:
        return self.verdict(leak)[0]

    def should_retry(self, leak: LeakScores) -> bool:
        """Below the threshold a risky word can still be left; the harm check would drop the
        pair for it, so the rewrite loop strips it while attempts remain."""
        return self.leaks(leak) or harm_cues(leak.signals) > 0

    def gather(self, pairs: list[CandidatePair], batch: Batch) -> list[LeakScores]:
        """The rewrite stage scored each final query already; a pair that skipped it, or whose final
        query is no longer the text it was scored on (an edit), is scored here."""
        # a pair the judge failed on (here, or in a checkpoint written before such failures were kept) is
        # asked again: the judge may be back, and an answer must not be passed on the detector's word
        # by position, not by pair id: two pairs of one seed and original query share an id (several
        # rewrites of one query scored in a script), and each must get its own scores
        unscored = [n for n, pair in enumerate(pairs)
                    if pair.leak is None or not pair.leak.of(pair.final_query) or judge_failed(pair.leak)]
        terms = {seed.id: seed.element.terms for seed in batch.seeds}
        fresh = dict(zip(unscored, self.score([
            LeakInput(query=pairs[n].final_query, image_description=pairs[n].image_description,
                      category=pairs[n].category, element_terms=terms.get(pairs[n].seed_id, ())) for n in unscored])))
        scores = [fresh.get(n, pair.leak) for n, pair in enumerate(pairs)]
        # a pair the configured judge could not judge is not passed on the detector's word alone
        return [ItemError(error=f"VSIL judge: {failure_text(leak.judge_error)}", transient=leak.judge_error.transient)
                if leak.judge_error else leak for leak in scores]

    def judge(self, pair: CandidatePair, leak: LeakScores) -> Judgement:
        return self.judgement(leak, attempt=max(1, len(pair.attempts)))

    def kept(self, pair: CandidatePair, leak: LeakScores) -> CandidatePair:
        """A kept pair carries the scores it was judged on: the harm check reads their signals."""
        return pair.model_copy(update={"leak": leak})

    def judgement(self, leak: LeakScores, attempt: int = 1, reason: str | None = None,
                  code: str | None = None) -> Judgement:
        leaky, verdict_code = self.verdict(leak)
        if reason is None:
            judge = " (VSIL judge: leaks)" if leak.signals.get(JUDGE_SIGNAL) == 1.0 else ""
            reason = (f"leaks: score {leak.score:.3f} vs threshold {self.threshold:.3f}{judge}" if leaky
                      else f"leak-free: score {leak.score:.3f} < {self.threshold:.3f}")
        return Judgement(keep=not leaky, code=code or verdict_code, reason=reason + withheld_note(leak),
                         made_by=self.made_by(leak),
                         scores={**leak.signals, **self.part_thresholds},
                         score=leak.score, threshold=self.threshold, spans=tuple(leak.spans), attempt=attempt,
                         element_terms=leak.element_terms, text_by=leak.written_by)

    def made_by(self, leak: LeakScores) -> Provenance:
        """What produced this evidence: the detector, and the judge's model that answered (not the one
        configured). A judge that did not answer (judge_leaks -1.0) is no party to it."""
        if leak.judged_by is None:
            return Provenance(backend=self.detector.backend, model=self.detector.model, prompt_hash="")
        return Provenance(backend=self.backend, model=joined_models([self.detector.model, leak.judged_by.model]),
                          prompt_hash=leak.judged_by.prompt_hash)
