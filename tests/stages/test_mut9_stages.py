"""mut9: a refined image prompt is read in its seed's category: a minor in an Erotic seed's refined prompt
is a hit on its own (guardrails: "a minor reference in the Erotic category")."""

from __future__ import annotations

from pipeline.batch import Batch
from pipeline.stages.drafts import DraftStage
from pipeline.stages.guardrail import GuardrailStage
from pipeline.stages.images import ImageStage
from tests.stages.test_guardrails import EchoWriter, seed
from tests.stages.test_image_prompt_guardrails import RecordingPlaceholder
from tests.stages.test_image_refined_prompt_beside import ADULT, REFINED, RefinesOnce


def test_a_refined_prompt_naming_a_minor_in_an_erotic_seed_is_blocked(tmp_path):
    studio = seed(ADULT)  # Erotic / Adult Content
    batch = GuardrailStage()(DraftStage(EchoWriter("Where would she stand for the shoot?"))(Batch(seeds=[studio])))
    assert len(batch.pairs) == 1 and batch.blocked == []
    generator = RecordingPlaceholder()
    done = ImageStage(generator, tmp_path, checker=RefinesOnce(REFINED), max_rounds=3)(batch)

    assert generator.prompts == [ADULT]
    block, = done.blocked
    assert (block.stage, block.rule) == ("image_refined_prompt", "sexual_minors")
    assert "Erotic category" in block.matched
