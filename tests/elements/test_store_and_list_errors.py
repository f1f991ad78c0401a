"""Errors a user can act on: `elements list` refuses a sub-category that does not exist as `grow`
does (it printed nothing, exit 0), and a corrupt store line names its file, version and line (the
error was pydantic's "Invalid JSON: EOF while parsing a string at line 1 column 300", no file)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.elements.store import ElementStore, StoredElement
from pipeline.taxonomy import load_elements


def stored(name: str) -> StoredElement:
    element = load_elements()[0].model_copy(update={"element": name})
    return StoredElement(element=element, backend="llm", model="m", prompt_hash="h", run_id="grow-t",
                         novelty=0.5, nearest="handgun", version=0)


def elements(*args: str):
    return CliRunner().invoke(app, ["elements", *args])


def test_an_unknown_sub_category_is_one_line_and_exit_2_as_for_grow():
    listed = elements("list", "-s", "Cybercrime", "-s", "Nope")
    grown = elements("grow", "-s", "Cybercrime", "-s", "Nope", "--n", "1")
    assert (listed.exit_code, grown.exit_code) == (2, 2) and listed.stdout == "", listed.output
    assert listed.stderr == grown.stderr == "error: unknown sub-category 'Nope' (`leakless elements stats` lists them all)\n"


def test_a_corrupt_store_line_names_the_file_version_and_line(tmp_path):
    store = ElementStore(tmp_path / "store")
    store.add_version([stored("first kept")], np.zeros((1, 384)), [], "grow-t", {})
    store.add_version([stored("second kept"), stored("third kept")], np.zeros((2, 384)), [], "grow-t", {})
    path = tmp_path / "store" / "v0002" / "elements.jsonl"
    first, second = path.read_text().splitlines()
    path.write_text(f"{first}\n\n{second[:300]}\n")
    with pytest.raises(ValueError) as raised:
        store.entries()
    assert str(raised.value).startswith(f"{path}:3: not a store entry of version 2 (Invalid JSON: EOF while")
    result = elements("list", "--set", f"elements.store='{tmp_path / 'store'}'")
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {path}:3: not a store entry")
    assert len(result.stderr.splitlines()) == 1
