"""What stops a proposed element before and at its novelty: the guardrail reads every term with the
proposal's category, the shape rules' bounds are inclusive and a name is compared with its synonyms
in any case, a name is a repeat when it is a known element's synonym or differs from a known name by
a plural on one word, the novelty index keeps every earlier vector when it grows, and the store records
each decision under its own element and sub-category and reads past a copied version folder."""

from __future__ import annotations

import shutil

import numpy as np

from pipeline.elements.checks import refusal, shape_problem
from pipeline.elements.novelty import NoveltyIndex, name_keys
from pipeline.elements.store import ElementStore, StoredElement
from pipeline.records import Decision, Element, Verdict
from tests.support.embedders import ScriptedEmbedder, basis

FAR = basis(383)


def element(name: str = "card shimming wafer", *, category: str = "Illegal Activity", synonyms=None,
            broader=("fraud device",), description: str | None = None) -> Element:
    return Element(category=category, sub_category="Cybercrime", element=name,
                   synonyms=tuple(synonyms or (f"{name} kit", f"{name} tool")), broader=tuple(broader),
                   description=description or f"A {name} held in tweezers above the slot of a card terminal.")


def test_a_minor_in_an_erotic_proposal_is_refused_by_the_guardrail():
    costume = element("schoolgirl costume", category="Erotic",
                      description="A schoolgirl costume on a hanger in a dim bedroom.")
    assert refusal(costume)[0] == "element.guardrail"


def test_a_synonym_the_guardrail_stops_refuses_the_proposal():
    studio = element("photo studio backdrop", synonyms=("studio backdrop", "teen nudes set"))
    assert refusal(studio)[0] == "element.guardrail"


def test_six_synonyms_and_three_broader_terms_are_in_shape_seven_and_four_are_not():
    broader = ["fraud device", "skimmer", "card fraud"]
    assert shape_problem(element(synonyms=[f"wafer {n}" for n in "abcdef"], broader=broader)) is None
    assert shape_problem(element(synonyms=[f"wafer {n}" for n in "abcdefg"])) == "7 synonyms, not 2 to 6"
    assert shape_problem(element(broader=["a", "b", "c", "d"])) == "4 broader terms, not 1 to 3"


def test_a_name_among_its_synonyms_in_another_case_is_out_of_shape():
    assert shape_problem(element("Lock pick", synonyms=("lock pick", "pick tool"))) == "its name is among its synonyms"


def test_a_plural_on_one_word_of_a_name_is_the_same_name():
    assert name_keys("drugs scale") & name_keys("drug scale")


def index_of(known: list[Element], vectors) -> NoveltyIndex:
    return NoveltyIndex(known, np.asarray(vectors, dtype=np.float32).reshape(-1, 384), ScriptedEmbedder({}, other=FAR),
                        max_similarity=0.85)


def test_a_proposal_named_as_a_known_elements_synonym_repeats_it():
    relay = element("keyless relay box", synonyms=("relay attack device", "key fob amplifier"))
    measured = index_of([relay], [basis(0)]).measure(element("relay attack device"), basis(1))
    assert measured.duplicate_of == "keyless relay box"


def test_the_index_keeps_every_earlier_vector_when_it_grows():
    index = index_of([], np.zeros((0, 384)))
    index.admit(element("card shimming wafer"), basis(0))
    for number in range(1100):  # past the first buffer of 1024 rows
        index.admit(element(f"filler {number}"), basis(1))
    measured = index.measure(element("chip overlay"), basis(0))
    assert (measured.similarity, measured.nearest) == (1.0, "card shimming wafer")


def stored(name: str) -> StoredElement:
    return StoredElement(element=element(name), backend="llm", model="m", prompt_hash="h", run_id="grow-t",
                         novelty=0.5, nearest="handgun", version=0)


def decision(name: str, verdict: Verdict) -> Decision:
    return Decision(item_id=name, seed_id=name, stage="elements", verdict=verdict, reason="element.novel: x",
                    backend="llm", model="m", prompt_hash="h")


def test_the_store_records_each_decision_under_its_element_and_sub_category(tmp_path):
    store = ElementStore(tmp_path)
    store.add_version([stored("card shimming wafer")], np.zeros((1, 384)),
                      [("Cybercrime", "card shimming wafer", decision("a", Verdict.keep)),
                       ("Weapons", "zip gun", decision("b", Verdict.drop))], "grow-t", {})
    rows = store.decisions()[["sub_category", "element", "verdict"]].to_dict("records")
    assert rows == [{"sub_category": "Cybercrime", "element": "card shimming wafer", "verdict": "keep"},
                    {"sub_category": "Weapons", "element": "zip gun", "verdict": "drop"}]


def test_a_copied_version_folder_is_not_read_as_a_version(tmp_path):
    store = ElementStore(tmp_path)
    store.add_version([stored("card shimming wafer")], np.zeros((1, 384)), [], "grow-t", {})
    shutil.copytree(tmp_path / "v0001", tmp_path / "v0001.bak")
    assert [entry.element.element for entry in store.entries()] == ["card shimming wafer"]
    assert store.add_version([stored("zip gun")], np.zeros((1, 384)), [], "grow-t", {}) == 2
