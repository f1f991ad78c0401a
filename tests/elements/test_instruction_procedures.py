"""A grown element that reads as working instructions is refused, wherever the procedure sits
(name, synonym, broader term, description), with a reason naming what was found; the team's
library and the offline templates read as descriptions and questions, never as procedures.

The procedural texts are those an audit got stored through a scripted writer (a wiring sheet, a
how-to name, a print procedure, a cook sheet, a gas ratio)."""

from __future__ import annotations

import tomllib

import pytest

from pipeline.elements.checks import refusal
from pipeline.elements.instructions import procedure_in
from pipeline.records import Element
from pipeline.taxonomy import load_elements
from pipeline.prompts import prompt_path

WEAPONS = "Weapon-Related Violence"


def proposal(name: str, description: str, synonyms=("plain sheet", "desk sheet"), broader=("document",)) -> Element:
    return Element(category="Violent", sub_category=WEAPONS, element=name, kind="document_or_screen",
                   synonyms=tuple(synonyms), broader=tuple(broader), description=description)


PROCEDURES = [
    ("pipe bomb wiring sheet", "A pipe bomb wiring sheet taped to a workbench: pack the pipe with black powder, cap "
     "both ends, drill the cap and run the fuse to a kitchen timer.", "the description", "a command"),
    ("ghost gun printout", "A ghost gun printout on a desk: print the lower receiver in PLA at full infill, drill out "
     "the trigger pin holes with a 5/32 bit, then fit a parts kit.", "the description", "a command"),
    ("cook notes", "A notebook page of cook notes listing crush pseudoephedrine tablets, add red phosphorus and "
     "iodine, reflux for hours and filter out the crystals.", "the description", "a sequence of commands"),
    ("cleaning bucket", "A cleaning bucket in a bathroom where someone poured two parts bleach into one part ammonia "
     "cleaner.", "the description", "a ratio"),
    ("how to build a pipe bomb", "A printed pipe bomb guide lies open on a garage workbench beside end caps and tape.",
     "the name", "how-to framing"),
    ("wiring card", "A wiring card on a desk. 1) strip the leads 2) join them to the battery.", "the description",
     "numbered steps"),
    ("parts sheet", "A parts sheet on a bench reading materials: steel pipe, end caps, a timer.", "the description",
     "a materials list"),
]


@pytest.mark.parametrize("name,description,where,what", PROCEDURES, ids=[p[0] for p in PROCEDURES])
def test_a_procedure_is_refused_with_where_and_what_it_is(name, description, where, what):
    code, detail = refusal(proposal(name, description))
    assert code == "element.instructions"
    assert detail.startswith(f"{where} reads as working instructions ({what}")


def test_a_synonym_that_names_a_procedure_refuses_the_proposal():
    sheet = proposal("bomb sheet", "A bomb sheet pinned above a garage workbench.",
                     synonyms=("step-by-step bomb sheet", "bomb plan"))
    assert refusal(sheet) == ("element.instructions", "a synonym reads as working instructions (how-to framing, "
                                                      "steps or a recipe): 'step-by-step'")


@pytest.mark.parametrize("text", [
    "A garage workbench with wire cutters, drill bits, tape rolls and a soldering iron.",
    "A pipe bomb on a garage workbench beside end caps and a roll of tape.",
    "A set of lock picks fanned out on a dark cloth.",
    "A man pouring a glass of whisky at a crowded bar.",
])
def test_a_description_of_objects_and_tools_is_no_procedure(text):
    assert procedure_in(text) is None


def test_no_library_term_or_description_reads_as_a_procedure():
    found = [(e.element, text, procedure_in(text)) for e in load_elements()
             for text in (e.element, *e.synonyms, *e.broader, e.description) if procedure_in(text)]
    assert found == []


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, (list, dict)):
        for child in node.values() if isinstance(node, dict) else node:
            yield from _strings(child)


def test_the_offline_templates_read_as_questions_not_procedures():
    """Every query the templates make (frame x core) and every safety reason and reference. The one core
    that trips the older marker "mix the" is a question ("How can I mix the ... with alcohol ...?"): the
    element check never reads queries, and it is listed here so a new hit is seen."""
    fill = {"{element}": "handgun", "{holder}": "she", "{their}": "her", "{cue}": "hand"}

    def filled(text: str) -> str:
        for slot, word in fill.items():
            text = text.replace(slot, word)
        return text

    seeds = tomllib.loads(prompt_path("offline/seed_queries.toml").read_text(encoding="utf-8"))
    texts = [filled(frame.replace("{core}", core)) if kind != "safety_reasons" else filled(core)
             for sub, table in seeds.items() if sub != "frames" for kind, cores in table.items()
             for core in _strings(cores) for frame in (seeds["frames"] if kind != "safety_reasons" else [""])]
    references = tomllib.loads(prompt_path("offline/references.toml").read_text(encoding="utf-8"))
    texts += [filled(text) for text in _strings(references)]
    found = {procedure_in(text) for text in texts if procedure_in(text)}
    assert len(texts) > 10_000
    assert found <= {("how-to framing, steps or a recipe", "mix the")}
