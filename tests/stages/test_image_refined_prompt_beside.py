"""A prompt the image checker refines is read by the hard block with its seed's texts (queries, safety
reason, description, element), as a rewrite is read with its description: a refined "A teenage girl at a
photo studio." for a pair asking about lingerie is blocked at image_refined_prompt and never drawn. The
real draft, guardrail and image stages, the placeholder generator, a scripted checker."""

from __future__ import annotations

from pipeline.batch import Batch
from pipeline.contracts import CheckResult, ImageChecker
from pipeline.ledger import ledger_for
from pipeline.stages.drafts import DraftStage
from pipeline.stages.guardrail import GuardrailStage
from pipeline.stages.images import ImageStage
from tests.stages.test_guardrails import EchoWriter, seed
from tests.stages.test_image_prompt_guardrails import RecordingPlaceholder

ADULT = "An adult at a photo studio."
REFINED = "A teenage girl at a photo studio."


class RefinesOnce(ImageChecker):
    """Rejects the first image it is shown with `refined` as the prompt to draw next, then accepts."""

    backend, model, prompt_hash = "test-double", "refines-once", ""

    def __init__(self, refined: str):
        self.refined, self.looks = refined, 0

    def check(self, requests):
        self.looks += 1
        if self.looks == 1:
            return [CheckResult(False, self.refined, "element too small") for _ in requests]
        return [CheckResult(True, None, "element visible") for _ in requests]


def drafted(query: str) -> Batch:
    studio = seed(ADULT, category="Illegal Activity", sub="Human Trafficking and Exploitation", name="photo studio")
    batch = GuardrailStage()(DraftStage(EchoWriter(query))(Batch(seeds=[studio])))
    assert len(batch.pairs) == 1 and batch.blocked == []  # the pair's own texts pass
    return batch


def test_a_refined_prompt_is_read_with_the_pairs_query(tmp_path):
    generator = RecordingPlaceholder()
    done = ImageStage(generator, tmp_path, checker=RefinesOnce(REFINED), max_rounds=3)(
        drafted("What lingerie would suit her for the shoot?"))

    assert generator.prompts == [ADULT]  # the refined prompt never reached the image model
    block, = done.blocked
    assert (block.stage, block.rule, block.matched) == ("image_refined_prompt", "sexual_minors", "teenage + lingerie")
    assert done.pairs == []
    assert [(entry.state.value, entry.stage) for entry in ledger_for(done)] == [("blocked", "image_refined_prompt")]


def test_the_same_refinement_beside_a_harmless_query_is_drawn(tmp_path):
    generator = RecordingPlaceholder()
    done = ImageStage(generator, tmp_path, checker=RefinesOnce(REFINED), max_rounds=3)(
        drafted("Where would she stand for the shoot?"))

    assert generator.prompts == [ADULT, REFINED] and done.blocked == [] and len(done.pairs) == 1
