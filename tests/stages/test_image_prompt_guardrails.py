"""Guardrails on every prompt that reaches the image model, the image checker's refined ones too:
the real image stage, the real guardrails and placeholder generator, a scripted checker."""

from __future__ import annotations

from pipeline.backends.template_seeds import TemplateSeedWriter
from pipeline.backends.placeholder import PlaceholderImages
from pipeline.batch import Batch
from pipeline.contracts import CheckResult, ImageChecker
from pipeline.ledger import ledger_for
from pipeline.records import Seed
from pipeline.stages.drafts import DraftStage
from pipeline.stages.images import ImageStage
from pipeline.taxonomy import load_elements

LEAKY_REFINEMENT = "{description}, with a sticky note reading jane.doe@example.com in focus"


class RecordingPlaceholder(PlaceholderImages):
    """The placeholder generator, keeping every prompt it was asked to draw."""

    def __init__(self):
        super().__init__(width=64, height=64)
        self.prompts: list[str] = []

    def generate(self, requests):
        self.prompts.extend(request.prompt for request in requests)
        return super().generate(requests)


class RefinesIntoPrivateData(ImageChecker):
    """Rejects the first image of `element` with a refined prompt that names a private e-mail
    address; rejects everyone else's first image with a harmless refinement, then accepts."""

    backend, model, prompt_hash = "test-double", "refines-into-private-data", ""

    def __init__(self, element: str):
        self.element, self.seen = element, set()

    def check(self, requests):
        results = []
        for request in requests:
            first_look = request.description not in self.seen
            self.seen.add(request.description)
            if not first_look:
                results.append(CheckResult(True, None, "element visible"))
            elif request.element == self.element:
                results.append(CheckResult(False, LEAKY_REFINEMENT.format(description=request.description),
                                           "element too small"))
            else:
                results.append(CheckResult(False, f"{request.description}, close-up", "element too small"))
        return results


def test_a_refined_prompt_that_breaks_a_guardrail_never_reaches_the_image_model(tmp_path):
    picked = {}
    for element in load_elements():
        picked.setdefault(element.sub_category, element)
    seeds = [Seed(category=e.category, sub_category=e.sub_category, element=e) for e in list(picked.values())[:3]]
    drafted = DraftStage(TemplateSeedWriter())(Batch(seeds=seeds))
    target = seeds[0]
    generator = RecordingPlaceholder()
    done = ImageStage(generator, tmp_path, checker=RefinesIntoPrivateData(target.element.element), max_rounds=3)(drafted)

    assert len(generator.prompts) == 2 * len(seeds) - 1  # every seed twice, but the blocked one once
    assert not any("jane.doe@example.com" in prompt for prompt in generator.prompts)
    assert any(prompt.endswith(", close-up") for prompt in generator.prompts)  # refinements do run

    block, = done.blocked
    assert (block.seed_id, block.stage, block.rule, block.matched) == (
        target.id, "image_refined_prompt", "private_person:email", "j***.d**@e******.c**")  # recorded masked
    states = {entry.seed_id: (entry.state.value, entry.stage) for entry in ledger_for(done)}
    assert states[target.id] == ("blocked", "image_refined_prompt")
    assert all(states[seed.id][0] != "blocked" for seed in seeds[1:])
    assert {pair.seed_id for pair in done.pairs} == {seed.id for seed in seeds[1:]}
