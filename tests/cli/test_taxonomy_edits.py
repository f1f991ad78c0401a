"""A researcher's taxonomy without one of the shipped categories: the build leaves that category's
library elements out and names them, and the leak detector's word lists stay as they were (its
version names the library file, not the taxonomy), rather than a traceback from the detector."""

from __future__ import annotations

import pytest

import pipeline.taxonomy as taxonomy
from pipeline.config import load_config
from pipeline.detect.library_terms import library_terms
from pipeline.detect.spelling import term_stems
from pipeline.plan import choose_elements

CACHED = (taxonomy.load_taxonomy, term_stems, library_terms)


def without_category(text: str, name: str) -> str:
    start = text.index(f'[[category]]\nname = "{name}"')
    end = text.index("[[category]]", start + 1)
    return text[:start] + text[end:]


@pytest.fixture
def taxonomy_without_erotic(tmp_path, monkeypatch):
    edited = tmp_path / "taxonomy.toml"
    edited.write_text(without_category(taxonomy.TAXONOMY_FILE.read_text(encoding="utf-8"), "Erotic"), encoding="utf-8")
    shipped = (term_stems(), library_terms())
    monkeypatch.setattr(taxonomy, "TAXONOMY_FILE", edited)
    for cached in CACHED:
        cached.cache_clear()
    yield shipped
    for cached in CACHED:
        cached.cache_clear()


def test_the_build_names_the_removed_category_s_elements_and_the_detector_still_reads_them(taxonomy_without_erotic):
    assert "Erotic" not in taxonomy.load_taxonomy().categories
    choice = choose_elements(load_config(None, ["run.size=1"]))
    assert {item.element.category for item in choice.chosen} == set(taxonomy.load_taxonomy().categories)
    assert choice.skipped and all("unknown category/sub-category 'Erotic'" in line for line in choice.skipped)
    assert (term_stems(), library_terms()) == taxonomy_without_erotic
