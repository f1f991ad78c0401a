"""A store version edited by hand is named with what is wrong: an audit got a bare
"'utf-8' codec can't decode byte 0xff in position 1793" for a stray byte, and "383 known elements but
384 vectors" from `elements grow` after deleting one line, neither naming the file or version."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.elements.store import ElementStore
from tests.elements.test_store_and_list_errors import elements, stored


@pytest.fixture
def store(tmp_path) -> ElementStore:
    store = ElementStore(tmp_path / "store")
    store.add_version([stored("first kept"), stored("second kept")], np.zeros((2, 384)), [], "grow-t", {})
    return store


def test_bytes_that_are_not_utf8_name_the_file_and_version(store, tmp_path):
    path = tmp_path / "store" / "v0001" / "elements.jsonl"
    path.write_bytes(path.read_bytes() + b"\xff\xfe bad\n")
    result = elements("list", "--source", "model", "--set", f"elements.store='{tmp_path / 'store'}'")
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, result.output
    assert result.stderr.startswith(f"error: {path}: not UTF-8 text (invalid start byte at byte ")
    assert "store version 1 was edited by hand" in result.stderr


def test_a_deleted_line_names_the_version_whose_lines_and_vectors_disagree(store, tmp_path):
    path = tmp_path / "store" / "v0001" / "elements.jsonl"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    with pytest.raises(ValueError, match=r"^store version 1 \(.*v0001\) has 1 entries in elements.jsonl but 2 "
                                         r"vectors in vectors.npy: a line was deleted or added by hand"):
        store.vectors()


def test_an_entry_edited_into_a_private_persons_laptop_is_refused_by_rule_without_its_text(store, tmp_path):
    """A grow never stores what the hard block stops; a hand edit could, and read on, the name went to
    the model in every grow request's list of known elements (audit 'elements', item 3)."""
    path = tmp_path / "store" / "v0001" / "elements.jsonl"
    path.write_text(path.read_text().replace("first kept", "Emily Carter's laptop"))
    result = elements("list", "--source", "model", "--set", f"elements.store='{tmp_path / 'store'}'")
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, result.output
    assert result.stderr.startswith(f"error: {path}:1: the hard block stops this entry (guardrail private_person")
    assert "Emily" not in result.stderr
