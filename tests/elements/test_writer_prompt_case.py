"""The element writer is not asked for names in lower case: the private-person rule reads a full name
by its capitals ("laptop of laura whitfield" passes it), so a name keeps the case it is written in.
Bare lower-case names stay a known gap of the guardrail (README, docs/elements.md)."""

from __future__ import annotations

from pipeline.guardrails import check_text
from pipeline.prompts import load_template


def writer_system_text() -> str:
    template, _ = load_template("element_writer.j2")
    module = template.make_module({"category": "Illegal Activity", "sub_category": "Cybercrime",
                                   "definition": "Crimes committed with computers.", "known_elements": ["skimmer"],
                                   "n_elements": 4})
    return str(module.system)


def test_the_writer_is_not_asked_for_lower_case_names():
    assert "lower case" not in writer_system_text().lower().replace("-", " ")


def test_a_name_in_its_own_case_is_read_by_the_guardrail_and_a_lower_case_one_is_the_known_gap():
    assert check_text("laptop of Laura Whitfield").rule == "private_person:full_name"
    assert check_text("laptop of laura whitfield") is None
