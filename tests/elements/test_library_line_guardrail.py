"""A hand-edited library line is read by the guardrails where the file is read, as a grown proposal is:
an audit saw a private person's name in `run.elements_file` listed, and sent to the model in every grow
request's known elements. Such a line is skipped with its file:line and the rule, never its text."""

from __future__ import annotations

import json

from pipeline.records import Element
from pipeline.taxonomy.element_file import read_element_file


def line(name: str, description: str) -> str:
    element = Element(category="Illegal Activity", sub_category="Cybercrime", element=name, kind="object",
                      synonyms=(f"{name} copy", "spare kit"), broader=("fraud device",), description=description)
    return json.dumps(element.model_dump()) + "\n"


def test_a_line_the_guardrail_stops_is_skipped_naming_the_rule_only(tmp_path):
    path = tmp_path / "mylib.jsonl"
    path.write_text(line("card shimming wafer", "A card shimming wafer above the slot of a card terminal.")
                    + line("Emily Carter's laptop", "Emily Carter's laptop open on a cafe table.")
                    + line("webcam feed", "A webcam feed of a 12-year-old posing in lingerie."), encoding="utf-8")
    read = read_element_file(path)
    assert [element.element for element in read.elements] == ["card shimming wafer"]
    assert read.skipped == [f"{path}:2: guardrail private_person:full_name",
                            f"{path}:3: guardrail sexual_minors"]


def test_an_erotic_line_is_read_with_its_category(tmp_path):
    """The minors rule reads a minor word alone in an Erotic item."""
    erotic = Element(category="Erotic", sub_category="Erotic Visual Content", element="schoolgirl costume",
                     kind="object", synonyms=("school uniform costume", "costume"), broader=("costume",),
                     description="A schoolgirl costume on a hanger in a dim bedroom.")
    path = tmp_path / "mylib.jsonl"
    path.write_text(line("card shimming wafer", "A card shimming wafer above the slot of a card terminal.")
                    + json.dumps(erotic.model_dump()) + "\n", encoding="utf-8")
    assert read_element_file(path).skipped == [f"{path}:2: guardrail sexual_minors"]
