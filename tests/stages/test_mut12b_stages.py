"""mut12b: guardrail stage survivors of round 12 pinned (S4, S7)."""

from __future__ import annotations

from collections import Counter

from pipeline.batch import Batch
from pipeline.guardrails import check_texts
from pipeline.stages.drafts import DraftStage
from pipeline.stages.guardrail import GuardrailStage
from tests.stages.test_guardrails import EchoWriter, seed

CAPTION = "Lace lingerie laid out on a hotel bed"


def test_a_minor_in_the_element_and_a_sexual_word_in_a_retrieved_caption_are_one_hit():
    # S4: the pairs' texts were read without the seed's and drafts' texts, so a minor named only by
    # the element and a sexual word only in the caption retrieval swapped in were never read together
    studio = seed("A teenage girl at a photo studio", category="Illegal Activity",
                  sub="Human Trafficking and Exploitation", name="photo studio")
    drafted = DraftStage(EchoWriter())(Batch(seeds=[studio]))
    assert drafted.pairs and not GuardrailStage()(drafted).blocked  # nothing sexual before retrieval
    assert check_texts([CAPTION], "Illegal Activity") is None  # the caption alone names no minor
    swapped = drafted.model_copy(update={"pairs": [pair.model_copy(update={"image_description": CAPTION})
                                                   for pair in drafted.pairs]})
    out = GuardrailStage()(swapped)
    assert out.pairs == [] and [(b.stage, b.rule) for b in out.blocked] == [("retrieval", "sexual_minors")]


def test_a_seed_blocked_at_draft_gets_one_block():
    # S7: a seed already stopped at its drafts had its pairs checked again, which wrote a second
    # Blocked record (stage retrieval) for the same seed
    bad = seed("An adult in lingerie posing", name="lingerie shoot")
    good = seed("An adult couple in lingerie in a hotel room", name="boudoir shoot")
    drafted = DraftStage(EchoWriter("Where does Sarah Miller live?"))(Batch(seeds=[bad]))
    clean = DraftStage(EchoWriter())(Batch(seeds=[good]))
    both = drafted.model_copy(update={"seeds": [bad, good], "drafts": drafted.drafts + clean.drafts,
                                      "pairs": drafted.pairs + clean.pairs})
    assert drafted.pairs and not drafted.blocked
    out = GuardrailStage()(both)
    assert Counter(b.seed_id for b in out.blocked) == {bad.id: 1}
    assert [(b.stage, b.rule) for b in out.blocked] == [("draft", "private_person:full_name")]
    assert {pair.seed_id for pair in out.pairs} == {good.id}
