"""The harm-filter role's four rules, first failing one wins (mutation round 3): a pair whose image and query
together are not harmful is dropped as `harm.pair_benign`, even when each other rule holds."""

from __future__ import annotations

import pytest

from pipeline.batch import Batch
from pipeline.contracts import HarmVerdict, Provenance
from pipeline.stages.harm_check_llm import LLMHarmCheckStage
from tests.stages.test_judge_interfaces import SEED, a_pair

ANSWERED_BY = Provenance(backend="toy-judge", model="toy-1", prompt_hash="toyhash")


class OneVerdict:
    backend, model, prompt_hash = "toy-judge", "toy-1", "toyhash"

    def __init__(self, **verdict):
        self.verdict = {"text_harmful": False, "image_harmful": True, "combined_harmful": True,
                        "intent_kept": True, **verdict}

    def judge(self, questions):
        return [HarmVerdict(**self.verdict, explanation="toy", made_by=ANSWERED_BY) for _ in questions]


@pytest.mark.parametrize("verdict, code", [
    ({}, "harm.kept"),
    ({"combined_harmful": False}, "harm.pair_benign"),
    ({"combined_harmful": False, "intent_kept": False}, "harm.pair_benign"),
    ({"image_harmful": False, "combined_harmful": False}, "harm.image_benign"),
    ({"text_harmful": True, "combined_harmful": False}, "harm.text_harmful"),
    ({"intent_kept": False}, "harm.intent_lost"),
])
def test_the_first_failing_rule_names_the_drop(verdict, code):
    out = LLMHarmCheckStage(OneVerdict(**verdict))(Batch(seeds=[SEED], pairs=[a_pair("What opens this?")]))
    [decision] = out.decisions
    assert decision.code == code and (decision.verdict == "keep") == (code == "harm.kept")
    assert len(out.pairs) == (code == "harm.kept")
    assert decision.scores["combined_harmful"] == float(verdict.get("combined_harmful", True))
