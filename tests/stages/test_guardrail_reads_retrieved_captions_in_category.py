"""The guardrail stage reads a seed's pairs (whose description retrieval may have replaced with a pool
caption) in the seed's category: in the Erotic category a minor reference alone is a hit, so a caption
naming a girl blocks the seed even though its drafts were clean (mutation round 3: read without the
category, the pair was shipped)."""

from __future__ import annotations

from pipeline.batch import Batch
from pipeline.stages.drafts import DraftStage
from pipeline.stages.guardrail import GuardrailStage
from tests.stages.test_guardrails import EchoWriter, seed


def test_a_retrieved_caption_with_a_minor_reference_blocks_an_erotic_seed():
    clean = seed("Two adults at a candle-lit dinner", name="dinner date")
    drafted = DraftStage(EchoWriter())(Batch(seeds=[clean]))
    assert drafted.pairs and not GuardrailStage()(drafted).blocked
    swapped = drafted.model_copy(update={"pairs": [pair.model_copy(update={"image_description": "a girl on a bed"})
                                                   for pair in drafted.pairs]})
    out = GuardrailStage()(swapped)
    assert out.pairs == [] and [(b.stage, b.rule) for b in out.blocked] == [("retrieval", "sexual_minors")]
