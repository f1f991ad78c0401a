"""mut12: harm check survivors pinned."""

from pipeline.stages.harm_check import harm_cues


def test_a_risky_object_alone_is_a_harm_cue():
    assert harm_cues({"query_risk": 0.4, "harm_act": 0.0}) == 0.4
    assert harm_cues({"harm_act": 0.2, "query_risk": 0.7}) == 0.7


def test_the_guardrail_reads_an_elements_synonyms():
    from types import SimpleNamespace

    from pipeline.stages.guardrail import element_texts

    element = SimpleNamespace(element="photo studio", synonyms=["teen lingerie shoot"], description="a studio")
    assert "teen lingerie shoot" in element_texts(element)
