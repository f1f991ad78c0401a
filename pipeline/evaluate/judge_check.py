"""Whether a real judge tells a refusal from a harmful compliance, asked before `leakless evaluate`
trusts it with the labels. SmolLM2-135M, as a judge, labelled 34 of 34 plainly harmful compliances
"safe with refusal": the leaderboard then ranked the always-harmful model first, and `select` built a
version from those labels. So the judge first labels the canned answers of `prompts/judge_check.toml`,
whose labels are not in doubt: once per run, the answer cache keeping its verdicts like any other.
The scripted judge of `leakless fake-llm` is not asked: its labels are a dry run's whatever it says.
The outcome goes with every row the run writes (`judge_record.py`), for the leaderboard and `select`."""

from __future__ import annotations

import asyncio
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.backends.base import ItemError
from pipeline.evaluate.judge_record import CANNED_ANSWERS, FAILED, INCOMPLETE, NOT_CHECKED, PASSED, CheckRecord
from pipeline.evaluate.models import JUDGE, EvaluationConfig, ModelEndpoint
from pipeline.evaluate import runner  # has_pairs_to_send looked up when called, as tests stand in for it
from pipeline.evaluate.runner import LABELS
from pipeline.evaluate.withheld import kept_error
from pipeline.guardrails import kept_whole
from pipeline.llm.cache import AnswerCache
from pipeline.llm.client import LLMClient
from pipeline.llm.roles import SafetyJudgeInput
from pipeline.prompts import prompt_path

RATIONALE_CHARS = 120  # of the judge's rationale quoted in a mislabel's line


@dataclass(frozen=True)
class CannedAnswer:
    what: str  # "a plain refusal"
    label: int  # the only right label
    pair: SafetyJudgeInput


@dataclass
class JudgeCheck:
    """What the judge made of the canned answers (nothing when it is the scripted judge)."""

    mislabelled: list[str] = field(default_factory=list)  # "a plain refusal as 3 (unsafe), not 1 (...): '...'"
    unanswered: list[str] = field(default_factory=list)  # "a plain refusal: HTTP 500 ..."
    scripted: bool = False  # the scripted judge, not asked

    def record(self) -> CheckRecord:
        """The outcome the run's rows keep (`judge_record.py`)."""
        if self.scripted:
            return CheckRecord(NOT_CHECKED)
        if self.mislabelled:
            return CheckRecord(FAILED, "; ".join(self.mislabelled))
        return CheckRecord(INCOMPLETE, "; ".join(self.unanswered)) if self.unanswered else CheckRecord(PASSED)


@dataclass(frozen=True)
class BeforeRun:
    """The judge check before a run: its lines for stderr, and the outcome its rows keep (None when the
    run has nothing to send, so no row is written with it)."""

    lines: list[str]
    record: CheckRecord | None


def canned_answers() -> list[CannedAnswer]:
    table = tomllib.loads(prompt_path(CANNED_ANSWERS).read_text(encoding="utf-8"))
    return [CannedAnswer(entry["what"], entry["label"], SafetyJudgeInput(
        instruction=entry["instruction"], image_description=entry["image_description"],
        safety_reason=entry["safety_reason"], answer=entry["answer"])) for entry in table["answers"]]


def check_judge(config: EvaluationConfig) -> JudgeCheck:
    """The judge's labels for the canned answers, against the right ones, with the run's answer cache."""
    cache_path = config.resolved_cache_path()
    cache = AnswerCache(cache_path) if cache_path else None
    try:
        return asyncio.run(judged(config.judge, cache, canned_answers()))
    finally:
        if cache is not None:
            cache.close()


async def judged(judge: ModelEndpoint, cache: AnswerCache | None, canned: list[CannedAnswer]) -> JudgeCheck:
    check = JudgeCheck()
    async with LLMClient(judge.llm_settings(JUDGE), cache=cache).session(JUDGE) as verdict:
        if await verdict.server_is_scripted():
            return JudgeCheck(scripted=True)
        verdicts = await asyncio.gather(*(verdict.answer(answer.pair) for answer in canned))
    for answer, given in zip(canned, verdicts):
        asked = (answer.pair.instruction, answer.pair.image_description, answer.pair.safety_reason,
                 answer.pair.answer)  # what the judge's words are read beside, under the hard block
        if isinstance(given, ItemError):  # one line, as notes are
            check.unanswered.append(f"{answer.what}: {kept_error('', ' '.join(given.error.split()), asked)}")
        elif given.output.label != answer.label:
            rationale = given.output.rationale
            said = kept_whole(textwrap.shorten(rationale, RATIONALE_CHARS, placeholder="..."), (*asked, rationale))
            check.mislabelled.append(f"{answer.what} as {given.output.label} ({LABELS[given.output.label]}), not "
                                     f"{answer.label} ({LABELS[answer.label]}): {said!r}")
    return check


def check_before_run(config: EvaluationConfig, plan: list[tuple[str, str]], release_dir: Path, out_dir: Path,
                     trust: bool) -> BeforeRun:
    """The judge check when the run has pairs to send (a finished evaluation still reruns without a
    request): a ValueError for a judge that mislabels the canned answers, a `warning:` line instead
    with `trust`, and a `note:` for those it could not label."""
    if not any(runner.has_pairs_to_send(release_dir, config, name, mode, out_dir) for name, mode in plan):
        return BeforeRun([], None)
    check = check_judge(config)
    judge = f"the judge {config.judge.model!r} at {config.judge.base_url}"
    lines = [f"note: could not check {judge} on the canned answers of prompts/{CANNED_ANSWERS}: "
             f"{'; '.join(check.unanswered)}"] if check.unanswered else []
    if check.mislabelled:
        mislabels = (f"{judge} labelled answers whose labels are not in doubt (prompts/{CANNED_ANSWERS}) "
                     f"wrongly: {'; '.join(check.mislabelled)}")
        if not trust:
            raise ValueError(f"{mislabels}; its labels would rank the models wrongly: use a stronger judge, or "
                             f"pass --trust-judge to evaluate with it anyway")
        lines.append(f"warning: {mislabels}; evaluating with it anyway (--trust-judge): its labels, the "
                     f"leaderboard and any selection made from them may mean nothing (recorded in the evaluation "
                     f"files, the leaderboard and the report)")
    return BeforeRun(lines, check.record())
