"""JSON allows U+2028, U+2029 and NEL raw inside a string, and pydantic and `json.dumps(...,
ensure_ascii=False)` write them raw; `str.splitlines()` splits on them. The store could not read back
an element it had written, and an elements file lost a valid line and misnumbered the next."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.elements.store import ElementStore, StoredElement
from pipeline.taxonomy import element_lines, load_elements

SEPARATORS = ["\u2028", "\u2029", "\x85"]  # JSON escapes the other characters splitlines() splits on


def element_with(separator: str):
    return load_elements()[0].model_copy(update={"description": f"A rusty cleaver{separator}on a butcher block."})


@pytest.mark.parametrize("separator", SEPARATORS)
def test_the_store_reads_back_an_element_whose_text_holds_a_line_separator(tmp_path, separator):
    store = ElementStore(tmp_path / "store")
    entry = StoredElement(element=element_with(separator), backend="llm", model="m", prompt_hash="h",
                          run_id="grow-t", novelty=0.5, nearest="handgun", version=0)
    store.add_version([entry, entry.model_copy()], np.zeros((2, 384)), [], "grow-t", {})
    assert [e.description for e in store.elements()] == [element_with(separator).description] * 2


@pytest.mark.parametrize("separator", SEPARATORS)
def test_an_elements_file_keeps_a_line_whose_text_holds_a_line_separator(tmp_path, separator):
    plain = load_elements()[1]
    path = tmp_path / "elements.jsonl"
    path.write_text("".join(json.dumps(e.model_dump(), ensure_ascii=False) + "\n"
                            for e in (element_with(separator), plain)), encoding="utf-8")
    lines = list(element_lines(path))
    assert [(number, problem) for number, _, problem in lines] == [(1, None), (2, None)]
    assert lines[0][1].description == element_with(separator).description
    assert load_elements(path)[1] == plain
