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


def test_an_erotic_seed_that_names_a_minor_never_reaches_the_writer():
    # mut12's S6: the seed check without the category let it through to the writer model (the later
    # stage check still blocked it, but the writer had seen it)
    from pipeline.records import Element, Seed
    from pipeline.stages.guardrail import screen_seeds

    def seed(category: str) -> Seed:
        element = Element(category=category, sub_category="Adult Content", element="teenager at the beach",
                          description="a teenager standing on a beach")
        return Seed(category=category, sub_category="Adult Content", element=element)

    live, blocked = screen_seeds([seed("Erotic"), seed("Privacy")])
    assert [s.category for s in live] == ["Privacy"]
    assert [(b.rule, str(b.stage)) for b in blocked] == [("sexual_minors", "seed")]
