"""The element writer's JSON schema carries the library's shape (how many synonyms, broader terms and
elements), which a grammar-constrained server enforces, so a small model cannot list synonyms until
max_tokens; the checks hold every proposal to the same bounds anyway, since a server may ignore the
schema, and refuse that one proposal rather than the whole answer. A description is one or two
sentences: one of 33,000 characters is refused."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from pipeline.config import load_config
from pipeline.elements.checks import shape_problem
from pipeline.elements.grow import GrowReport, Grower
from pipeline.elements.store import ElementStore
from pipeline.llm.messages import schema_of
from pipeline.llm.roles import (BROADER, MAX_DESCRIPTION_CHARS, MAX_ELEMENTS, MAX_TERM_CHARS, SYNONYMS, ElementWriterInput,
                                ElementWriterOutput, get_role)
from pipeline.records import Element
from tests.support.embedders import ScriptedEmbedder, basis

SUB = "Cybercrime"


def element(synonyms=("wafer kit", "wafer tool"), broader=("fraud device",), description=None) -> Element:
    return Element(category="Illegal Activity", sub_category=SUB, element="card shimming wafer",
                   synonyms=tuple(synonyms), broader=tuple(broader),
                   description=description or "A card shimming wafer held in tweezers above a card terminal.")


def test_the_schema_bounds_synonyms_broader_terms_and_elements():
    schema = schema_of(get_role("element_writer"))
    proposed = schema["$defs"]["ProposedElement"]["properties"]
    assert (proposed["synonyms"]["minItems"], proposed["synonyms"]["maxItems"]) == SYNONYMS == (2, 6)
    assert (proposed["broader"]["minItems"], proposed["broader"]["maxItems"]) == BROADER == (1, 3)
    assert schema["properties"]["elements"]["maxItems"] == MAX_ELEMENTS  # the most a request asks for
    ElementWriterInput(category="c", sub_category=SUB, definition="d", n_elements=MAX_ELEMENTS)
    with pytest.raises(ValidationError):
        ElementWriterInput(category="c", sub_category=SUB, definition="d", n_elements=MAX_ELEMENTS + 1)
    assert f"at most {MAX_DESCRIPTION_CHARS} characters" in proposed["description"]["description"]
    assert f"at most {MAX_TERM_CHARS} characters" in proposed["synonyms"]["items"]["description"]


def test_the_checks_accept_exactly_what_the_schema_bounds():
    low, high = SYNONYMS
    assert shape_problem(element(synonyms=[f"wafer {n}" for n in range(low)])) is None
    assert shape_problem(element(synonyms=[f"wafer {n}" for n in range(high)])) is None
    assert shape_problem(element(synonyms=[f"wafer {n}" for n in range(high + 1)])) == "7 synonyms, not 2 to 6"
    assert shape_problem(element(broader=[f"device {n}" for n in range(BROADER[1] + 1)])) == "4 broader terms, not 1 to 3"


def test_a_description_or_term_past_its_length_is_out_of_shape():
    sentence = "A card shimming wafer held in tweezers above a card terminal in a dim shop. "
    assert shape_problem(element(description=sentence * 5)) is None  # 375 characters
    assert shape_problem(element(description=sentence * 450)) == (
        f"the description has {len(sentence * 450)} characters; at most {MAX_DESCRIPTION_CHARS}")
    long_term = "wafer" + "x" * MAX_TERM_CHARS
    assert shape_problem(element(synonyms=("wafer kit", long_term))) == (
        f"a synonym has {len(long_term)} characters; a term has at most {MAX_TERM_CHARS}")


def test_an_answer_that_ignores_the_schema_loses_only_the_proposals_out_of_shape(tmp_path):
    good = {"element": "card shimming wafer", "kind": "object", "synonyms": ["shim card", "chip shim"],
            "broader": ["fraud device"], "description": "A card shimming wafer held in tweezers above a card terminal."}
    listed = {**good, "element": "chip overlay", "synonyms": [f"overlay {n}" for n in range(40)],
              "description": "A chip overlay pressed onto the card slot of a payment terminal."}
    rambling = {**good, "element": "skimmer bar", "synonyms": ["skimmer strip", "card bar"],
                "description": "A skimmer bar on a terminal in a shop. " * 850}
    answer = ElementWriterOutput.model_validate_json(json.dumps({"elements": [good, listed, rambling]}))
    config = load_config(None, [f"elements.store='{tmp_path}'"])
    grower = Grower(config, client=None, embedder=ScriptedEmbedder({}, other=basis(383)), run_id="grow-t",
                    store=ElementStore(tmp_path))
    vectors = iter([basis(1), basis(2), basis(3)])
    grower.index.embed = lambda proposals: [next(vectors) for _ in proposals]  # each far from the rest
    report = GrowReport(run_id="grow-t", wanted={SUB: 3})
    grower.judge(SUB, SimpleNamespace(output=answer, provenance=SimpleNamespace(
        backend="scripted", model="m", prompt_hash="h")), 3, report)
    reasons = [decision.reason for _, _, decision in grower.decisions]
    assert reasons[0].startswith("element.novel") and report.added[SUB] == 1
    assert reasons[1] == "element.shape: 40 synonyms, not 2 to 6"
    assert reasons[2].startswith("element.shape: the description has 33") and reasons[2].endswith("at most 400")
